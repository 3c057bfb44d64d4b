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

    public struct Hello: Sendable, Equatable {
        public var versions: [UInt8]
        public var clientName: String

        public init(versions: [UInt8], clientName: String) {
            self.versions = versions
            self.clientName = clientName
        }

        public func write(to buffer: inout ByteBuffer) {
            buffer.writeInteger(UInt8(self.versions.count))
            for version in self.versions { buffer.writeInteger(version) }
            buffer.writeWireString(self.clientName)
        }

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

    public struct HelloReply: Sendable, Equatable {
        public var version: UInt8
        public var maximumFrameBytes: UInt32
        public var serverID: String
        public var loadedAtMilliseconds: UInt64

        public init(version: UInt8, maximumFrameBytes: UInt32, serverID: String, loadedAtMilliseconds: UInt64) {
            self.version = version
            self.maximumFrameBytes = maximumFrameBytes
            self.serverID = serverID
            self.loadedAtMilliseconds = loadedAtMilliseconds
        }

        public func write(to buffer: inout ByteBuffer) {
            buffer.writeInteger(self.version)
            buffer.writeInteger(self.maximumFrameBytes)
            buffer.writeWireString(self.serverID)
            buffer.writeInteger(self.loadedAtMilliseconds)
        }

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

    public struct Key: Sendable, Hashable {
        public var container: String
        public var channel: String

        public init(container: String, channel: String) {
            self.container = container
            self.channel = channel
        }

        public func write(to buffer: inout ByteBuffer) {
            buffer.writeWireString(self.container)
            buffer.writeWireString(self.channel)
        }

        public static func read(from buffer: inout ByteBuffer) throws(ProtocolError) -> Key {
            Key(container: try buffer.readWireString("container"), channel: try buffer.readWireString("channel"))
        }
    }

    public static func writeBatch(_ keys: [Key], to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt16(keys.count))
        for key in keys { key.write(to: &buffer) }
    }

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
        case found(ChannelRelease)
        case notFound
        case badRequest
        /// A status this build does not know.
        case other(ProtocolStatus)
    }

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

    public static func readReleases(from buffer: inout ByteBuffer) throws(ProtocolError) -> [ChannelRelease] {
        let count = try buffer.readWireInteger("count", as: UInt16.self)
        var releases: [ChannelRelease] = []
        for _ in 0..<count { releases.append(try ChannelRelease.read(from: &buffer)) }
        try buffer.requireFullyRead("GET_CONTAINER reply")
        return releases
    }

    // MARK: REVISION and REVISION_CHANGED

    public struct RevisionInfo: Sendable, Equatable {
        public var loadedAtMilliseconds: UInt64
        public var releases: UInt32
        public var containers: UInt32

        public init(loadedAtMilliseconds: UInt64, releases: UInt32, containers: UInt32) {
            self.loadedAtMilliseconds = loadedAtMilliseconds
            self.releases = releases
            self.containers = containers
        }

        public func write(to buffer: inout ByteBuffer) {
            buffer.writeMultipleIntegers(self.loadedAtMilliseconds, self.releases, self.containers)
        }

        public static func read(from buffer: inout ByteBuffer) throws(ProtocolError) -> RevisionInfo {
            guard let (loadedAt, releases, containers) = buffer.readMultipleIntegers(as: (UInt64, UInt32, UInt32).self) else {
                throw ProtocolError(.badRequest, "REVISION body: truncated")
            }
            try buffer.requireFullyRead("REVISION body")
            return RevisionInfo(loadedAtMilliseconds: loadedAt, releases: releases, containers: containers)
        }
    }

    // MARK: Errors

    public static func writeMessage(_ message: String, to buffer: inout ByteBuffer) {
        buffer.writeWireString(String(message.utf8.prefix(1024)) ?? message)
    }

    public static func readMessage(from buffer: inout ByteBuffer) -> String {
        (try? buffer.readWireString("message")) ?? ""
    }
}
