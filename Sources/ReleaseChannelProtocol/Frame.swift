public import NIOCore

/// One protocol frame (docs/protocol.md §3): a fixed 16-byte header after the 4-byte length, then the body.
public struct Frame: Sendable, Equatable {
    /// Length prefix plus header.
    public static let headerSize = 20
    /// The protocol version this build speaks.
    public static let currentVersion: UInt8 = 1

    /// Protocol version of the frame (byte 4): 1 for HELLO and its reply, the negotiated version afterwards.
    public var version: UInt8
    /// What the frame is (docs/protocol.md §7), as the raw byte so that undefined opcodes can be carried
    /// (``knownOpcode`` names a defined one). A reply carries the opcode of its request.
    public var opcode: UInt8
    /// REPLY, PUSH and COMPRESSED bits (§4); empty in requests.
    public var flags: FrameFlags
    /// The result of a reply or ERROR frame (§5); OK in requests and pushes.
    public var status: ProtocolStatus
    /// Chosen by the client for a request and echoed unchanged in its reply; 0 in pushes and ERROR frames.
    public var requestID: UInt32
    /// In replies and ERROR frames the revision of the snapshot that answered, in a push the new revision;
    /// ``Revision/none`` in requests and while the server serves no snapshot.
    public var revision: Revision
    /// The opcode-specific body (§7) after the 16-byte header, 0 or more bytes; still gzip data when
    /// ``flags`` contains ``FrameFlags/compressed``.
    public var body: ByteBuffer

    /// Creates a frame; the defaults describe a version 1 request: no flags, status OK, no revision, an
    /// empty body.
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
