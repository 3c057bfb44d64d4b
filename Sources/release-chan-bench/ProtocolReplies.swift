import NIOCore
import ReleaseChannelProtocol

/// Mode tcp's side of the wire: the greeting, and replies read from their header alone.
///
/// The load generator needs only a reply's flags and status. Cutting every frame out as a `Frame`
/// (`FrameReassembler`) had cost it a slice, so a reference count, per reply, on the cores it shares
/// with the server it measures.
enum ProtocolReplies {
    /// Checks each frame's length as the server's decoder does; frames up to 16 MiB.
    static let frames = FrameDecoder(maximumFrameBytes: 1 << 24)

    /// HELLO: the protocol's version and the client's name. The load starts once it is answered.
    static func greeting(allocator: ByteBufferAllocator) -> ByteBuffer {
        var body = ByteBuffer()
        ProtocolMessages.Hello(versions: [Frame.currentVersion], clientName: "release-chan-bench").write(to: &body)
        var buffer = allocator.buffer(capacity: 64)
        buffer.writeFrame(opcode: ProtocolOpcode.hello.rawValue, flags: [], requestID: 0, revision: .none) { $0.writeImmutableBuffer(body) }
        return buffer
    }

    /// The next complete frame at the start of `buffer` (a push, or an answer whose status says
    /// whether it succeeded), stepped over; nil until the rest of it arrives.
    /// - Throws: ``ProtocolError`` for a frame shorter than its header or larger than the maximum.
    static func next(in buffer: inout ByteBuffer) throws -> Reply? {
        // docs/protocol.md §3: u32 length, then version, opcode, flags and status, one byte each.
        guard let total = try Self.frames.completeFrameSize(in: buffer),
            let (flags, status) = buffer.getMultipleIntegers(at: buffer.readerIndex + 6, as: (UInt8, UInt8).self)
        else { return nil }
        buffer.moveReaderIndex(forwardBy: total)
        if FrameFlags(rawValue: flags).contains(.push) { return .unsolicited }
        return .answer(ok: ProtocolStatus(rawValue: status) == .ok)
    }
}
