import NIOCore
import ReleaseChannelProtocol

/// Reads the header of each frame a protocol connection receives and steps over its body, keeping an
/// incomplete frame until its rest arrives.
///
/// The load generator needs only a reply's flags and status. Cutting every frame out as a `Frame`
/// (`FrameReassembler`) had cost it a slice, so a reference count, per reply, on the cores it shares
/// with the server it measures; a Redis reply costs the redis mode a scan of its first line.
struct FrameHeaderReader {
    struct Header {
        let flags: FrameFlags
        let status: ProtocolStatus
    }

    /// Largest whole frame (length prefix included) accepted.
    let maximumFrameBytes: Int
    private var buffered = ByteBuffer()

    init(maximumFrameBytes: Int) {
        self.maximumFrameBytes = maximumFrameBytes
    }

    /// Adds bytes read from the connection.
    mutating func append(_ bytes: ByteBuffer) {
        if self.buffered.readableBytes == 0 {
            self.buffered = bytes
        } else {
            self.buffered.writeImmutableBuffer(bytes)
        }
    }

    /// The header of the next complete frame, or nil until more bytes arrive.
    /// - Throws: ``ProtocolError`` for a frame shorter than its header or longer than the maximum.
    mutating func next() throws -> Header? {
        // docs/protocol.md §3: u32 length, then version, opcode, flags and status, one byte each.
        guard let (length, _, _, flags, status) = self.buffered.getMultipleIntegers(at: self.buffered.readerIndex, as: (UInt32, UInt8, UInt8, UInt8, UInt8).self) else {
            return nil
        }
        guard length >= 16 else {
            throw ProtocolError(.badFrame, "frame length \(length) is shorter than the 16-byte header")
        }
        let total = Int(length) + 4
        guard total <= self.maximumFrameBytes else {
            throw ProtocolError(.frameTooLarge, "frame of \(total) bytes exceeds the maximum of \(self.maximumFrameBytes)")
        }
        guard self.buffered.readableBytes >= total else { return nil }
        self.buffered.moveReaderIndex(forwardBy: total)
        return Header(flags: FrameFlags(rawValue: flags), status: ProtocolStatus(rawValue: status))
    }
}
