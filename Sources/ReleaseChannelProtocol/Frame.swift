public import NIOCore

/// One protocol frame (docs/protocol.md §3): a fixed 16-byte header after the 4-byte length, then the body.
public struct Frame: Sendable, Equatable {
    /// Length prefix plus header.
    public static let headerSize = 20
    /// The protocol version this build speaks.
    public static let currentVersion: UInt8 = 1

    public var version: UInt8
    public var opcode: UInt8
    public var flags: FrameFlags
    public var status: ProtocolStatus
    public var requestID: UInt32
    public var revision: Revision
    public var body: ByteBuffer

    public init(
        version: UInt8 = Frame.currentVersion,
        opcode: UInt8,
        flags: FrameFlags = [],
        status: ProtocolStatus = .ok,
        requestID: UInt32,
        revision: Revision = .none,
        body: ByteBuffer = ByteBuffer()
    ) {
        self.version = version
        self.opcode = opcode
        self.flags = flags
        self.status = status
        self.requestID = requestID
        self.revision = revision
        self.body = body
    }

    /// The opcode, when version 1 defines it.
    public var knownOpcode: ProtocolOpcode? { ProtocolOpcode(rawValue: self.opcode) }

    /// Writes the whole frame, length prefix included, as one contiguous run of bytes.
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeFrame(
            opcode: self.opcode,
            flags: self.flags,
            status: self.status,
            requestID: self.requestID,
            revision: self.revision,
            version: self.version
        ) { $0.writeImmutableBuffer(self.body) }
    }

    /// Parses a complete frame (length prefix included); nil when the bytes are not exactly one frame.
    public static func parse(_ buffer: ByteBuffer) -> Frame? {
        var buffer = buffer
        guard let length = buffer.readInteger(as: UInt32.self), length >= 16, Int(length) == buffer.readableBytes else { return nil }
        return Self.parseAfterLength(&buffer)
    }

    /// Parses the header and takes the rest as the body; `buffer` starts after the length prefix.
    static func parseAfterLength(_ buffer: inout ByteBuffer) -> Frame? {
        guard let (version, opcode, flags, status, requestID, revision) = buffer.readMultipleIntegers(as: (UInt8, UInt8, UInt8, UInt8, UInt32, UInt64).self)
        else { return nil }
        return Frame(
            version: version,
            opcode: opcode,
            flags: FrameFlags(rawValue: flags),
            status: ProtocolStatus(rawValue: status),
            requestID: requestID,
            revision: Revision(value: revision),
            body: buffer
        )
    }
}

extension ByteBuffer {
    /// Writes one frame in place: the header, then whatever `body` writes, then patches the length. The
    /// transports use this so that a frame is always one buffer and one write.
    @inlinable
    public mutating func writeFrame(
        opcode: UInt8,
        flags: FrameFlags,
        status: ProtocolStatus = .ok,
        requestID: UInt32,
        revision: Revision,
        version: UInt8 = Frame.currentVersion,
        body: (inout ByteBuffer) -> Void
    ) {
        let start = self.writerIndex
        self.writeMultipleIntegers(UInt32(0), version, opcode, flags.rawValue, status.rawValue, requestID, revision.value)
        body(&self)
        self.setInteger(UInt32(self.writerIndex - start - 4), at: start)
    }
}
