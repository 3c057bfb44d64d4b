import NIOCore

/// Cuts the replies to `GET` out of the bytes a Redis connection receives (RESP 2), keeping an
/// incomplete reply until its rest arrives.
///
/// A GET is answered with a bulk string (`$<length>\r\n<bytes>\r\n`), a null bulk string (`$-1\r\n`)
/// for a key Redis does not have, or an error line (`-ERR ...\r\n`).
struct RESPReplyReader {
    /// A reply that is not what a GET gets.
    struct UnexpectedReply: Error, CustomStringConvertible {
        let firstByte: UInt8
        var description: String { "unexpected RESP reply type \(UnicodeScalar(self.firstByte))" }
    }

    /// A bulk string longer than this is taken for a broken stream.
    static let maximumValueBytes = 1 << 26

    private var buffered = ByteBuffer()

    /// Adds bytes read from the connection.
    mutating func append(_ bytes: ByteBuffer) {
        if self.buffered.readableBytes == 0 {
            self.buffered = bytes
        } else {
            self.buffered.writeImmutableBuffer(bytes)
        }
    }

    /// Whether the next complete reply found a value (false for a missing key or an error), or nil
    /// until more bytes arrive.
    /// - Throws: ``UnexpectedReply`` for a reply a GET does not get, or a malformed length.
    mutating func next() throws -> Bool? {
        try self.buffered.withUnsafeReadableBytes { bytes -> (found: Bool, length: Int)? in
            guard let type = bytes.first else { return nil }
            guard let lineEnd = bytes.firstIndex(of: UInt8(ascii: "\n")) else {
                // A reply's first line is short; this many bytes without its end is not RESP.
                guard bytes.count <= 4096 else { throw UnexpectedReply(firstByte: type) }
                return nil
            }
            switch type {
            case UInt8(ascii: "-"):
                return (false, lineEnd + 1)
            case UInt8(ascii: "$"):
                guard lineEnd >= 3, bytes[lineEnd - 1] == UInt8(ascii: "\r") else { throw UnexpectedReply(firstByte: type) }
                if bytes[1] == UInt8(ascii: "-") { return (false, lineEnd + 1) }
                var length = 0
                for digit in bytes[1..<(lineEnd - 1)] {
                    guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit), length < Self.maximumValueBytes else {
                        throw UnexpectedReply(firstByte: type)
                    }
                    length = length * 10 + Int(digit - UInt8(ascii: "0"))
                }
                let total = lineEnd + 1 + length + 2
                return total <= bytes.count ? (true, total) : nil
            default:
                throw UnexpectedReply(firstByte: type)
            }
        }.map { reply in
            self.buffered.moveReaderIndex(forwardBy: reply.length)
            return reply.found
        }
    }
}
