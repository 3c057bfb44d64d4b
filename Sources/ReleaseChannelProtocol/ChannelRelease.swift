public import NIOCore

/// The release record of the protocol (docs/protocol.md §6.1): what runs for a container on a channel.
public struct ChannelRelease: Sendable, Hashable {
    public var container: String
    public var channel: String
    public var image: String
    /// `sha256:…`, or nil when the db has none.
    public var digest: String?
    /// RFC 3339 UTC.
    public var updatedAt: String

    public init(container: String, channel: String, image: String, digest: String?, updatedAt: String) {
        self.container = container
        self.channel = channel
        self.image = image
        self.digest = digest
        self.updatedAt = updatedAt
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeWireString(self.container)
        buffer.writeWireString(self.channel)
        buffer.writeWireString(self.image)
        buffer.writeWireString(self.digest ?? "")
        buffer.writeWireString(self.updatedAt)
    }

    public static func read(from buffer: inout ByteBuffer) throws(ProtocolError) -> ChannelRelease {
        let container = try buffer.readWireString("release.container")
        let channel = try buffer.readWireString("release.channel")
        let image = try buffer.readWireString("release.image")
        let digest = try buffer.readWireString("release.digest")
        let updatedAt = try buffer.readWireString("release.updated_at")
        return ChannelRelease(container: container, channel: channel, image: image, digest: digest.isEmpty ? nil : digest, updatedAt: updatedAt)
    }
}
