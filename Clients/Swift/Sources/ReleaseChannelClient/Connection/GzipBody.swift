import CZlib
import NIOCore

/// The body of a COMPRESSED frame (docs/protocol.md §4): one gzip member, decoded with the system zlib.
///
/// compress-nio's `decompress(with:maxSize:)` returns what it inflated when the input ends early, so a
/// SNAPSHOT cut short (a member without its last blocks or its CRC trailer) would read as a shorter db. This
/// decoder accepts a body only when zlib reports the member's end, its CRC-32 and size checked, with no byte
/// after it.
enum GzipBody {
    enum Failure: Error, Equatable {
        /// The decoded body would be larger than the limit.
        case tooLarge(limit: Int)
        /// Not one complete, valid gzip member.
        case invalid(String)
    }

    /// Decodes `body` to at most `maximumBytes` bytes.
    static func decode(_ body: ByteBuffer, maximumBytes: Int) throws(Failure) -> ByteBuffer {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer {
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        guard release_chan_inflate_init_gzip(stream) == Z_OK else { throw .invalid("zlib could not start inflating") }
        defer { inflateEnd(stream) }
        let result = body.withUnsafeReadableBytes { input in
            Self.inflate(input, stream: stream, maximumBytes: max(0, maximumBytes))
        }
        return try result.get()
    }

    private static func inflate(_ input: UnsafeRawBufferPointer, stream: UnsafeMutablePointer<z_stream>, maximumBytes: Int) -> Result<ByteBuffer, Failure> {
        // zlib reads through a mutable pointer but does not write the input. A frame body is under 4 GiB
        // (its length is a u32), so it fits avail_in.
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        defer { stream.pointee.next_in = nil }
        var output = ByteBuffer()
        while true {
            if output.writableBytes == 0 {
                guard output.readableBytes < maximumBytes else { return .failure(.tooLarge(limit: maximumBytes)) }
                // Doubling from a guess at the ratio, never past the limit.
                let grow = min(maximumBytes - output.readableBytes, max(64 * 1024, output.readableBytes, input.count * 4))
                output.reserveCapacity(minimumWritableBytes: grow)
            }
            let room = min(output.writableBytes, maximumBytes - output.readableBytes, Int(UInt32.max))
            var status = Z_OK
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: 0) { buffer in
                stream.pointee.next_out = buffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(room)
                status = CZlib.inflate(stream, Z_NO_FLUSH)
                defer { stream.pointee.next_out = nil }
                return room - Int(stream.pointee.avail_out)
            }
            switch status {
            case Z_STREAM_END:
                let left = Int(stream.pointee.avail_in)
                guard left == 0 else { return .failure(.invalid("\(left) bytes follow the end of the gzip stream")) }
                return .success(output)
            case Z_OK, Z_BUF_ERROR:
                // No input left and room to spare, yet no end: the member was cut short.
                if stream.pointee.avail_in == 0, stream.pointee.avail_out > 0 {
                    return .failure(.invalid("the gzip stream ends early (\(input.count) bytes, no end of stream)"))
                }
                if output.readableBytes >= maximumBytes { return .failure(.tooLarge(limit: maximumBytes)) }
            case Z_MEM_ERROR:
                return .failure(.invalid("zlib ran out of memory"))
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                return .failure(.invalid("not valid gzip: \(message)"))
            }
        }
    }
}
