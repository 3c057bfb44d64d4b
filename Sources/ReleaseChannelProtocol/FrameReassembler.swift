public import NIOCore

/// Cuts frames out of the bytes a connection receives, keeping an incomplete frame until its rest arrives.
///
/// For handlers that read `ByteBuffer`s and handle frames in place: a `ByteToMessageHandler` in front of
/// them would pass each frame down the pipeline boxed in an `NIOAny` (an allocation and a dynamic cast
/// per frame, which showed in the profiles of the server and the load generator). The decoder rejects an
/// oversized frame from its length prefix, so at most one frame's bytes are kept between reads.
public struct FrameReassembler {
    private var decoder: FrameDecoder
    private var buffered = ByteBuffer()

    /// Creates an empty reassembler that accepts frames of up to `maximumFrameBytes` bytes, the 4-byte
    /// length prefix included.
    public init(maximumFrameBytes: Int) {
        self.decoder = FrameDecoder(maximumFrameBytes: maximumFrameBytes)
    }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: ByteBuffer) {
        if self.buffered.readableBytes == 0 {
            self.buffered = bytes
        } else {
            // The frames cut so far are handled: drop their bytes before adding more, or a connection
            // whose reads keep ending inside a frame would grow this buffer for as long as it lasts.
            self.buffered.discardReadBytes()
            self.buffered.writeImmutableBuffer(bytes)
        }
    }

    /// Bytes this reassembler holds storage for, consumed or not (the tests' measure of what it keeps).
    var storedBytes: Int { self.buffered.writerIndex }

    /// The next complete frame, or nil until more bytes arrive.
    /// - Throws: ``ProtocolError`` for a frame that is too large or shorter than its header.
    public mutating func next() throws -> Frame? {
        try self.decoder.decode(buffer: &self.buffered)
    }
}
