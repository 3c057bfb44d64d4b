import CZlib
import NIOCore

/// One zlib raw-DEFLATE stream (no zlib or gzip wrapper) reused for many segments.
///
/// Each segment ends at a sync flush, which closes the last block and pads to a byte boundary, and no
/// segment sets the final-block bit, so segment outputs placed one after another form one valid DEFLATE
/// stream; ``SegmentedGzip`` closes it.
final class RawDeflater {
    // zlib keeps a pointer back to the stream struct and rejects calls through a moved copy, so the
    // struct lives at a fixed heap address.
    private let stream: UnsafeMutablePointer<z_stream>

    init() throws(CompressionError) {
        self.stream = .allocate(capacity: 1)
        self.stream.initialize(to: z_stream())
        let status = release_chan_deflate_init_raw(self.stream, Z_DEFAULT_COMPRESSION)
        guard status == Z_OK else {
            self.stream.deinitialize(count: 1)
            self.stream.deallocate()
            throw CompressionError(operation: "deflateInit2", code: status)
        }
    }

    deinit {
        deflateEnd(self.stream)
        self.stream.deinitialize(count: 1)
        self.stream.deallocate()
    }

    /// Appends `input` compressed as if `dictionary` (at most the 32 KiB window) had been compressed
    /// just before it: back-references may reach into it, which is what the decompressor of the whole
    /// stream has in its window at that point.
    func deflate(_ input: UnsafeRawBufferPointer, dictionary: UnsafeRawBufferPointer, into output: inout ByteBuffer) throws(CompressionError) {
        var status = deflateReset(self.stream)
        guard status == Z_OK else { throw CompressionError(operation: "deflateReset", code: status) }
        if let base = dictionary.baseAddress, dictionary.count > 0 {
            status = deflateSetDictionary(self.stream, base.assumingMemoryBound(to: Bytef.self), uInt(dictionary.count))
            guard status == Z_OK else { throw CompressionError(operation: "deflateSetDictionary", code: status) }
        }
        // zlib reads through a mutable pointer but does not write the input.
        self.stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        self.stream.pointee.avail_in = uInt(input.count)
        // The bound covers a finished stream; a sync flush adds an empty stored block (5 bytes).
        let bound = Int(deflateBound(self.stream, uLong(input.count))) + 16
        repeat {
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { buffer in
                let capacity = min(buffer.count, Int(UInt32.max))
                self.stream.pointee.next_out = buffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
                self.stream.pointee.avail_out = uInt(capacity)
                status = CZlib.deflate(self.stream, Z_SYNC_FLUSH)
                return capacity - Int(self.stream.pointee.avail_out)
            }
            // Z_BUF_ERROR only says that a call could make no progress; the loop condition decides.
            guard status == Z_OK || status == Z_BUF_ERROR else { throw CompressionError(operation: "deflate", code: status) }
        } while self.stream.pointee.avail_in > 0 || self.stream.pointee.avail_out == 0
        self.stream.pointee.next_in = nil
        self.stream.pointee.next_out = nil
    }
}
