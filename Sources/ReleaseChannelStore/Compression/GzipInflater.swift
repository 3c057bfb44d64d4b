import CZlib
import NIOCore

/// One zlib stream inflating a gzip member from memory that is not a `ByteBuffer` (the mapped
/// ``ScratchFile`` of the whole db), a chunk of output at a time.
final class GzipInflater {
    // zlib keeps a pointer back to the stream struct and rejects calls through a moved copy, so the
    // struct lives at a fixed heap address.
    private let stream: UnsafeMutablePointer<z_stream>

    init() throws(CompressionError) {
        self.stream = .allocate(capacity: 1)
        self.stream.initialize(to: z_stream())
        let status = release_chan_inflate_init_gzip(self.stream)
        guard status == Z_OK else {
            self.stream.deinitialize(count: 1)
            self.stream.deallocate()
            throw CompressionError(operation: "inflateInit2", code: status)
        }
    }

    deinit {
        inflateEnd(self.stream)
        self.stream.deinitialize(count: 1)
        self.stream.deallocate()
    }

    /// Inflates from the start of `input` (what is left of the stream) into at most `capacity` new
    /// bytes of `output`.
    /// - Returns: How many input bytes were used, and whether the gzip member ended.
    /// - Throws: On corrupt data, or a stream that ends before its member does.
    func inflate(_ input: UnsafeRawBufferPointer, into output: inout ByteBuffer, capacity: Int) throws(CompressionError) -> (consumed: Int, finished: Bool) {
        // zlib reads through a mutable pointer but does not write the input.
        self.stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        self.stream.pointee.avail_in = uInt(min(input.count, Int(UInt32.max)))
        var status = Z_OK
        let produced = output.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { buffer in
            self.stream.pointee.next_out = buffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
            self.stream.pointee.avail_out = uInt(capacity)
            status = CZlib.inflate(self.stream, Z_NO_FLUSH)
            return capacity - Int(self.stream.pointee.avail_out)
        }
        let consumed = min(input.count, Int(UInt32.max)) - Int(self.stream.pointee.avail_in)
        self.stream.pointee.next_in = nil
        self.stream.pointee.next_out = nil
        switch status {
        case Z_STREAM_END:
            return (consumed, true)
        case Z_OK:
            return (consumed, false)
        case Z_BUF_ERROR where produced > 0 || consumed > 0:
            return (consumed, false)
        default:
            // Z_BUF_ERROR without progress: the input ended inside the member.
            throw CompressionError(operation: "inflate", code: status == Z_BUF_ERROR ? Z_DATA_ERROR : status)
        }
    }
}
