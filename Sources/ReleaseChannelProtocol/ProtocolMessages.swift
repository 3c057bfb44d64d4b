public import NIOCore

/// Body layouts of version 1 (docs/protocol.md §6–7), shared by the server and the SDK.
public enum ProtocolMessages {
    /// Most versions a HELLO may offer.
    public static let maximumOfferedVersions = 16
    /// Longest client name in a HELLO, in bytes.
    public static let maximumClientNameBytes = 64
    /// Longest PING payload, in bytes.
    public static let maximumPingPayload = 64
    /// Most pairs in one BATCH_GET.
    public static let maximumBatchCount = 256
    /// Default largest frame a server accepts from a client.
    public static let defaultMaximumRequestFrame = 65536

    // MARK: HELLO

    /// The body of a HELLO request (docs/protocol.md §7.2): which versions the client speaks and its name.
    public struct Hello: Sendable, Equatable {
        /// The protocol versions the client speaks, in any order; 1 to ``ProtocolMessages/maximumOfferedVersions``.
        public var versions: [UInt8]
        /// Free-form identification for the server's logs, at most
        /// ``ProtocolMessages/maximumClientNameBytes`` bytes of UTF-8.
        public var clientName: String

        /// Creates a HELLO body; the limits are checked when the server reads it, not here.
        public init(versions: [UInt8], clientName: String) {
            self.versions = versions
            self.clientName = clientName
        }

        /// Appends the body: a `u8` count, the versions (one `u8` each), then the name as a `str`.
        public func write(to buffer: inout ByteBuffer) {
            buffer.writeInteger(UInt8(self.versions.count))
            for version in self.versions { buffer.writeInteger(version) }
            buffer.writeWireString(self.clientName)
        }

        /// Reads a whole HELLO body.
        /// - Throws: ``ProtocolError`` with BAD_REQUEST for 0 or more than 16 versions, a name over 64 bytes,
        ///   a truncated field or trailing bytes.
        public static func read(from buffer: inout ByteBuffer) throws(ProtocolError) -> Hello {
            let count = try buffer.readWireInteger("versions.count", as: UInt8.self)
            guard (1...UInt8(maximumOfferedVersions)).contains(count) else {
                throw ProtocolError(.badRequest, "HELLO must offer 1 to \(maximumOfferedVersions) versions, not \(count)")
            }
            var versions: [UInt8] = []
            for _ in 0..<count { versions.append(try buffer.readWireInteger("versions", as: UInt8.self)) }
            let name = try buffer.readWireString("client_name")
            guard name.utf8.count <= maximumClientNameBytes else {
                throw ProtocolError(.badRequest, "client_name is longer than \(maximumClientNameBytes) bytes")
            }
            try buffer.requireFullyRead("HELLO")
            return Hello(versions: versions, clientName: name)
        }
    }

    /// The body of the OK reply to HELLO (§7.2); the frame's revision is the one served at the handshake.
    public struct HelloReply: Sendable, Equatable {
        /// The version the server chose, the highest both sides speak; every later frame on the connection uses it.
        public var version: UInt8
        /// The largest frame, in bytes and counting the 4-byte length prefix, that the server accepts from this
        /// client (`max_frame`; 65536 by default).
        public var maximumFrameBytes: UInt32
        /// Human-readable identification of the server (for example `release-chan`), for logs; not to be parsed.
        public var serverID: String
        /// When the served snapshot was loaded, in milliseconds since 1970; 0 when none is served.
        public var loadedAtMilliseconds: UInt64

        /// Creates a HELLO reply body from its fields.
        public init(version: UInt8, maximumFrameBytes: UInt32, serverID: String, loadedAtMilliseconds: UInt64) {
            self.version = version
            self.maximumFrameBytes = maximumFrameBytes
            self.serverID = serverID
            self.loadedAtMilliseconds = loadedAtMilliseconds
        }

        /// Appends the body: `version` (`u8`), `max_frame` (`u32`), `server_id` (`str`), `loaded_at_ms` (`u64`).
        public func write(to buffer: inout ByteBuffer) {
            buffer.writeInteger(self.version)
            buffer.writeInteger(self.maximumFrameBytes)
            buffer.writeWireString(self.serverID)
            buffer.writeInteger(self.loadedAtMilliseconds)
        }

        /// Reads a whole HELLO reply body.
        /// - Throws: ``ProtocolError`` for a truncated field or trailing bytes.
        public static func read(from buffer: inout ByteBuffer) throws(ProtocolError) -> HelloReply {
            let version = try buffer.readWireInteger("version", as: UInt8.self)
            let maximum = try buffer.readWireInteger("max_frame", as: UInt32.self)
            let serverID = try buffer.readWireString("server_id")
            let loadedAt = try buffer.readWireInteger("loaded_at_ms", as: UInt64.self)
            try buffer.requireFullyRead("HELLO reply")
            return HelloReply(version: version, maximumFrameBytes: maximum, serverID: serverID, loadedAtMilliseconds: loadedAt)
        }
    }

    // MARK: Lookups

    /// One (container, channel) pair to look up: the GET request body, and one pair of a BATCH_GET.
    public struct Key: Sendable, Hashable {
        /// Container name; anything but a lowercase DNS-1123 label of 1–63 bytes gets BAD_REQUEST.
        public var container: String
        /// Channel name; anything but a channel of the served db gets BAD_REQUEST.
        public var channel: String

        /// Creates a key; the server checks the names, this does not.
        public init(container: String, channel: String) {
            self.container = container
            self.channel = channel
        }

        /// Appends the key: `container`, then `channel`, each a `str`.
        public func write(to buffer: inout ByteBuffer) {
            buffer.writeWireString(self.container)
            buffer.writeWireString(self.channel)
        }

        /// Reads a key: two `str` fields.
        /// - Throws: ``ProtocolError`` with BAD_REQUEST for a truncated field or bytes that are not UTF-8.
        public static func read(from buffer: inout ByteBuffer) throws(ProtocolError) -> Key {
            Key(container: try buffer.readWireString("container"), channel: try buffer.readWireString("channel"))
        }
    }

    /// Appends a BATCH_GET request body (§7.6): a `u16` count, then the keys. The count is not checked here;
    /// the server accepts 1 to ``ProtocolMessages/maximumBatchCount``.
    public static func writeBatch(_ keys: [Key], to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt16(keys.count))
        for key in keys { key.write(to: &buffer) }
    }

    /// Reads a whole BATCH_GET request body.
    /// - Throws: ``ProtocolError`` with BAD_REQUEST for a count outside 1–256, a malformed key or trailing bytes.
    public static func readBatch(from buffer: inout ByteBuffer) throws(ProtocolError) -> [Key] {
        let count = try buffer.readWireInteger("count", as: UInt16.self)
        guard (1...UInt16(maximumBatchCount)).contains(count) else {
            throw ProtocolError(.badRequest, "BATCH_GET takes 1 to \(maximumBatchCount) pairs, not \(count)")
        }
        var keys: [Key] = []
        keys.reserveCapacity(Int(count))
        for _ in 0..<count { keys.append(try Key.read(from: &buffer)) }
        try buffer.requireFullyRead("BATCH_GET")
        return keys
    }

    /// One result of a BATCH_GET reply.
    public enum BatchResult: Sendable, Equatable {
        /// OK: the pair's release.
        case found(ChannelRelease)
        /// NOT_FOUND: the container has no release, or none on that channel.
        case notFound
        /// BAD_REQUEST: an invalid container name, or a channel the db does not have.
        case badRequest
        /// Any other item status: INTERNAL when the server failed on that pair (a server fault; an error for
        /// that key only, the other items are valid), or a status this build does not know.
        case other(ProtocolStatus)
    }

    /// Reads a whole BATCH_GET OK reply body: one result per requested pair, in request order.
    /// - Throws: ``ProtocolError`` for a truncated item or trailing bytes.
    public static func readBatchReply(from buffer: inout ByteBuffer) throws(ProtocolError) -> [BatchResult] {
        let count = try buffer.readWireInteger("count", as: UInt16.self)
        var results: [BatchResult] = []
        results.reserveCapacity(Int(count))
        for _ in 0..<count {
            let status = ProtocolStatus(rawValue: try buffer.readWireInteger("status", as: UInt8.self))
            switch status {
            case .ok: results.append(.found(try ChannelRelease.read(from: &buffer)))
            case .notFound: results.append(.notFound)
            case .badRequest: results.append(.badRequest)
            default: results.append(.other(status))
            }
        }
        try buffer.requireFullyRead("BATCH_GET reply")
        return results
    }

    /// Reads a whole GET_CONTAINER OK reply body (§7.5): the container's releases in channel promotion order.
    /// - Throws: ``ProtocolError`` for a truncated record or trailing bytes.
    public static func readReleases(from buffer: inout ByteBuffer) throws(ProtocolError) -> [ChannelRelease] {
        let count = try buffer.readWireInteger("count", as: UInt16.self)
        var releases: [ChannelRelease] = []
        for _ in 0..<count { releases.append(try ChannelRelease.read(from: &buffer)) }
        try buffer.requireFullyRead("GET_CONTAINER reply")
        return releases
    }

    // MARK: REVISION and REVISION_CHANGED

    /// The revision info body (§6.2) of the REVISION reply and the REVISION_CHANGED push: 16 bytes. The
    /// revision it describes is the one in the frame header.
    public struct RevisionInfo: Sendable, Equatable {
        /// When the snapshot was loaded, in milliseconds since 1970.
        public var loadedAtMilliseconds: UInt64
        /// Number of releases in the snapshot.
        public var releases: UInt32
        /// Number of distinct containers in the snapshot.
        public var containers: UInt32

        /// Creates a revision info body from its fields.
        public init(loadedAtMilliseconds: UInt64, releases: UInt32, containers: UInt32) {
            self.loadedAtMilliseconds = loadedAtMilliseconds
            self.releases = releases
            self.containers = containers
        }

        /// Appends the 16 bytes: `loaded_at_ms` (`u64`), `releases` (`u32`), `containers` (`u32`).
        public func write(to buffer: inout ByteBuffer) {
            buffer.writeMultipleIntegers(self.loadedAtMilliseconds, self.releases, self.containers)
        }

        /// Reads a whole revision info body.
        /// - Throws: ``ProtocolError`` with BAD_REQUEST for fewer or more than 16 bytes.
        public static func read(from buffer: inout ByteBuffer) throws(ProtocolError) -> RevisionInfo {
            guard let (loadedAt, releases, containers) = buffer.readMultipleIntegers(as: (UInt64, UInt32, UInt32).self) else {
                throw ProtocolError(.badRequest, "REVISION body: truncated")
            }
            try buffer.requireFullyRead("REVISION body")
            return RevisionInfo(loadedAtMilliseconds: loadedAt, releases: releases, containers: containers)
        }
    }

    // MARK: Errors

    /// Appends the error body (§6.3): `message` as a `str`, cut to its first 1024 bytes when that leaves valid
    /// UTF-8.
    public static func writeMessage(_ message: String, to buffer: inout ByteBuffer) {
        buffer.writeWireString(String(message.utf8.prefix(1024)) ?? message)
    }

    /// The message of an error body; empty when the body does not hold one.
    public static func readMessage(from buffer: inout ByteBuffer) -> String {
        (try? buffer.readWireString("message")) ?? ""
    }
}
