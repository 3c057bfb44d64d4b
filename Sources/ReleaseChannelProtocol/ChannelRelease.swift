public import NIOCore

/// The release record of the protocol (docs/protocol.md §6.1): what runs for a container on a channel.
public struct ChannelRelease: Sendable, Hashable {
    /// Container name: a lowercase DNS-1123 label of 1–63 bytes.
    public var container: String
    /// Channel name: one of the channels configured in the served db.
    public var channel: String
    /// OCI image reference exactly as stored in the db (`name[:tag][@sha256:…]`, at most 512 bytes).
    public var image: String
    /// `sha256:…`, or nil when the db has none.
    public var digest: String?
    /// RFC 3339 UTC.
    public var updatedAt: String

    /// Creates a record from its fields; a nil `digest` goes on the wire as the empty string.
    public init(container: String, channel: String, image: String, digest: String?, updatedAt: String) {
        self.container = container
        self.channel = channel
        self.image = image
        self.digest = digest
        self.updatedAt = updatedAt
    }

    /// Appends the record in its wire layout (docs/protocol.md §6.1): five `str` fields, the empty string
    /// standing for a nil `digest`.
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeWireString(self.container)
        buffer.writeWireString(self.channel)
        buffer.writeWireString(self.image)
        buffer.writeWireString(self.digest ?? "")
        buffer.writeWireString(self.updatedAt)
    }

    /// Reads one record (§6.1), turning an empty `digest` into nil.
    /// - Throws: ``ProtocolError`` with BAD_REQUEST for a truncated field or bytes that are not UTF-8.
    public static func read(from buffer: inout ByteBuffer) throws(ProtocolError) -> ChannelRelease {
        let container = try buffer.readWireString("release.container")
        let channel = try buffer.readWireString("release.channel")
        let image = try buffer.readWireString("release.image")
        let digest = try buffer.readWireString("release.digest")
        let updatedAt = try buffer.readWireString("release.updated_at")
        return ChannelRelease(container: container, channel: channel, image: image, digest: digest.isEmpty ? nil : digest, updatedAt: updatedAt)
    }
}
