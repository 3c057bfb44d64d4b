import NIOCore

/// Mode http's side of the wire: HTTP/1.1 responses to the pipelined `GET`s of ``WireRequests``, read
/// in place as wrk reads them.
///
/// A response counts as a success when its status is 200. Its body is framed by `Content-Length`
/// (stepped over as it arrives, never kept) or by `Transfer-Encoding: chunked` (kept until its last
/// chunk is in, then stepped over); 1xx, 204 and 304 responses have none. A response framed by
/// neither would end only with the connection, which a pipelined load cannot use: it is an error.
///
/// NIO's HTTP client codec, which mode http used before, made a request head, its headers and a
/// response head per request (15 mallocs), on the cores the load generator shares with the server.
struct HTTPReplies {
    /// A response this reader cannot step over.
    struct UnreadableResponse: Error, CustomStringConvertible {
        let reason: String
        var description: String { "unreadable HTTP response: \(self.reason)" }
    }

    /// A response head (status line and headers) longer than this is taken for a broken stream.
    static let maximumHeadBytes = 64 * 1024
    /// A body or chunk length above this is taken for a broken stream.
    static let maximumBodyBytes = 1 << 30

    /// Body bytes of the response being read that have not arrived yet (`Content-Length` framing).
    private var bodyBytesToCome = 0
    /// Whether the response whose body is arriving succeeded.
    private var bodyOfSuccess = false

    /// The next complete response at the start of `buffer`, stepped over; nil until the rest of it
    /// arrives (a `Content-Length` body is stepped over as it arrives).
    /// - Throws: ``UnreadableResponse`` for bytes that are not an HTTP/1.x response this reader can frame.
    mutating func next(in buffer: inout ByteBuffer) throws -> Reply? {
        if self.bodyBytesToCome > 0 {
            let arrived = min(self.bodyBytesToCome, buffer.readableBytes)
            buffer.moveReaderIndex(forwardBy: arrived)
            self.bodyBytesToCome -= arrived
            return self.bodyBytesToCome == 0 ? .answer(ok: self.bodyOfSuccess) : nil
        }
        let found = try buffer.withUnsafeReadableBytes { bytes -> (head: Head, chunkedBody: Int)? in
            guard let head = try Head(parsing: bytes) else { return nil }
            guard case .chunked = head.body else { return (head, 0) }
            guard let body = try Self.chunkedBodyLength(in: UnsafeRawBufferPointer(rebasing: bytes[head.count...])) else {
                return nil
            }
            return (head, body)
        }
        guard let (head, chunkedBody) = found else { return nil }
        buffer.moveReaderIndex(forwardBy: head.count)
        let ok = head.status == 200
        switch head.body {
        case .none:
            return (100..<200).contains(head.status) ? .unsolicited : .answer(ok: ok)
        case .chunked:
            buffer.moveReaderIndex(forwardBy: chunkedBody)
            return .answer(ok: ok)
        case .length(let length):
            guard length > 0 else { return .answer(ok: ok) }
            self.bodyBytesToCome = length
            self.bodyOfSuccess = ok
            return try self.next(in: &buffer)
        }
    }

    /// A response's status line and headers.
    private struct Head {
        enum Body {
            case none
            case length(Int)
            case chunked
        }

        var status = 0
        /// Bytes of the status line and headers, with the empty line that ends them.
        var count = 0
        var body = Body.none

        /// The head at the start of `bytes`; nil until its empty line arrives.
        init?(parsing bytes: UnsafeRawBufferPointer) throws {
            var lineStart = 0
            var length: Int?
            var chunked = false
            while true {
                guard let newline = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) else {
                    guard bytes.count <= HTTPReplies.maximumHeadBytes else { throw UnreadableResponse(reason: "no end to a head of \(bytes.count) bytes") }
                    return nil
                }
                let lineEnd = newline > lineStart && bytes[newline - 1] == UInt8(ascii: "\r") ? newline - 1 : newline
                let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd])
                if lineStart == 0 {
                    self.status = try Self.status(of: line)
                } else if line.isEmpty {
                    self.count = newline + 1
                    break
                } else if let value = Self.value(of: "content-length", in: line) {
                    length = try Self.decimal(value)
                } else if let value = Self.value(of: "transfer-encoding", in: line) {
                    chunked = Self.contains("chunked", in: value)
                }
                lineStart = newline + 1
            }
            if (100..<200).contains(self.status) || self.status == 204 || self.status == 304 {
                self.body = .none
            } else if chunked {
                self.body = .chunked
            } else if let length {
                self.body = .length(length)
            } else {
                throw UnreadableResponse(reason: "status \(self.status) without Content-Length or chunked encoding")
            }
        }

        /// The code of a status line, `HTTP/1.x NNN reason`.
        private static func status(of line: UnsafeRawBufferPointer) throws -> Int {
            let prefix = "HTTP/1.".utf8
            guard line.count >= 12, line.starts(with: prefix), line[8] == UInt8(ascii: " ") else {
                throw UnreadableResponse(reason: "not an HTTP/1.x status line")
            }
            return try Self.decimal(UnsafeRawBufferPointer(rebasing: line[9..<12]))
        }

        /// The value of header `name` (lowercase) if `line` is that header, without surrounding blanks.
        private static func value(of name: String, in line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
            let name = name.utf8
            guard line.count > name.count, line[name.count] == UInt8(ascii: ":") else { return nil }
            // ASCII letters, digits and '-' only: setting bit 5 lowercases a letter and keeps the others.
            for (byte, expected) in zip(line, name) where byte | 0x20 != expected { return nil }
            var value = line[(name.count + 1)...]
            while let first = value.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { value = value.dropFirst() }
            while let last = value.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { value = value.dropLast() }
            return UnsafeRawBufferPointer(rebasing: value)
        }

        private static func decimal(_ digits: UnsafeRawBufferPointer) throws -> Int {
            var value = 0
            for digit in digits {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit), value <= HTTPReplies.maximumBodyBytes else {
                    throw UnreadableResponse(reason: "not a decimal number: \(String(decoding: digits, as: UTF8.self))")
                }
                value = value * 10 + Int(digit - UInt8(ascii: "0"))
            }
            guard !digits.isEmpty else { throw UnreadableResponse(reason: "an empty number") }
            return value
        }

        /// Whether `value` holds `word` (lowercase), whatever the case of its letters.
        private static func contains(_ word: String, in value: UnsafeRawBufferPointer) -> Bool {
            let word = Array(word.utf8)
            guard value.count >= word.count else { return false }
            return (0...(value.count - word.count)).contains { start in
                word.indices.allSatisfy { value[start + $0] | 0x20 == word[$0] }
            }
        }
    }

    /// Bytes of the chunked body at the start of `bytes`, through its last chunk and trailers; nil
    /// until all of it has arrived.
    private static func chunkedBodyLength(in bytes: UnsafeRawBufferPointer) throws -> Int? {
        var offset = 0
        while true {
            guard let newline = bytes[offset...].firstIndex(of: UInt8(ascii: "\n")) else {
                guard bytes.count - offset <= 1024 else { throw UnreadableResponse(reason: "a chunk size line without its end") }
                return nil
            }
            var size = 0
            var digits = 0
            for byte in bytes[offset..<newline] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: digit = 16
                }
                // The size ends at a chunk extension (`;`), a blank or the line's end.
                guard digit < 16 else { break }
                size = size * 16 + Int(digit)
                digits += 1
                guard size <= Self.maximumBodyBytes else { throw UnreadableResponse(reason: "a chunk of more than \(Self.maximumBodyBytes) bytes") }
            }
            guard digits > 0 else { throw UnreadableResponse(reason: "a chunk without a size") }
            offset = newline + 1
            if size == 0 {
                // Trailer fields, if any, then the empty line that ends the body.
                while true {
                    guard let end = bytes[offset...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
                    let isEmpty = end == offset || (end == offset + 1 && bytes[offset] == UInt8(ascii: "\r"))
                    offset = end + 1
                    if isEmpty { return offset }
                }
            }
            guard offset + size + 2 <= bytes.count else { return nil }
            guard bytes[offset + size] == UInt8(ascii: "\r"), bytes[offset + size + 1] == UInt8(ascii: "\n") else {
                throw UnreadableResponse(reason: "a chunk not followed by CRLF")
            }
            offset += size + 2
        }
    }
}
