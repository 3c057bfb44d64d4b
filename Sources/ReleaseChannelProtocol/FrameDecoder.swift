public import NIOCore

/// Splits a byte stream into frames, rejecting an oversized frame from its length prefix alone, before
/// any of its body is buffered.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder, Sendable {
    public typealias InboundOut = Frame

    /// Largest whole frame (length prefix included) accepted.
    public let maximumFrameBytes: Int

    /// Creates a decoder that accepts frames of up to `maximumFrameBytes` bytes, the 4-byte length prefix
    /// included; a larger one is rejected with FRAME_TOO_LARGE from its length prefix alone.
    public init(maximumFrameBytes: Int) {
        self.maximumFrameBytes = maximumFrameBytes
    }

    /// The size (length prefix included) of the frame at the start of `buffer` once all of it is
    /// there, nil until then.
    /// - Throws: ``ProtocolError`` for a frame shorter than its header or larger than the maximum,
    ///   as soon as its length prefix shows it.
    @inlinable
    public func completeFrameSize(in buffer: ByteBuffer) throws -> Int? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length >= 16 else {
            throw ProtocolError(.badFrame, "frame length \(length) is shorter than the 16-byte header")
        }
        let total = Int(length) + 4
        guard total <= self.maximumFrameBytes else {
            throw ProtocolError(.frameTooLarge, "frame of \(total) bytes exceeds the maximum of \(self.maximumFrameBytes)")
        }
        return buffer.readableBytes >= total ? total : nil
    }

    /// Takes the next complete frame off the front of `buffer`; nil until all of its bytes have arrived.
    /// - Throws: ``ProtocolError`` as ``completeFrameSize(in:)`` does.
    public mutating func decode(buffer: inout ByteBuffer) throws -> Frame? {
        guard let total = try self.completeFrameSize(in: buffer) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        guard var frameBytes = buffer.readSlice(length: total - 4), let frame = Frame.parseAfterLength(&frameBytes) else {
            throw ProtocolError(.badFrame, "truncated frame header")
        }
        return frame
    }

    /// At the end of the stream: the next complete frame, if any, like ``decode(buffer:)``.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Frame? {
        // A partial frame at the end of the stream is dropped: its sender is gone.
        try self.decode(buffer: &buffer)
    }
}
