import NIOCore

/// Mode redis's side of the wire: replies to `GET` (RESP 2) from a Redis holding the releases under
/// `container:channel`.
///
/// A GET is answered with a bulk string (`$<length>\r\n<bytes>\r\n`), a null bulk string (`$-1\r\n`)
/// for a key Redis does not have, or an error line (`-ERR ...\r\n`).
///
/// The redis mode lets one load generator drive both release-chan and Redis, so that their latencies
/// are measured the same way: redis-benchmark writes a connection's next request one event-loop turn
/// after reading the reply and starts its clock at that write, so fewer requests are in flight than it
/// has connections, and a closed loop at the same rate shows lower latencies than one that writes at
/// once.
enum RESPReplies {
    /// A reply that is not what a GET gets.
    struct UnexpectedReply: Error, CustomStringConvertible {
        let firstByte: UInt8
        var description: String { "unexpected RESP reply type \(UnicodeScalar(self.firstByte))" }
    }

    /// A bulk string longer than this is taken for a broken stream.
    static let maximumValueBytes = 1 << 26

    /// The next complete reply at the start of `buffer`, stepped over: a success when it holds a value
    /// (not for a missing key or an error); nil until the rest of it arrives.
    /// - Throws: ``UnexpectedReply`` for a reply a GET does not get, or a malformed length.
    static func next(in buffer: inout ByteBuffer) throws -> Reply? {
        try buffer.withUnsafeReadableBytes { bytes -> (found: Bool, length: Int)? in
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
            buffer.moveReaderIndex(forwardBy: reply.length)
            return .answer(ok: reply.found)
        }
    }
}
