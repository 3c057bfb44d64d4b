/// Reads an HTTP/1.1 request head from raw bytes just far enough to tell whether
/// ``RawReleaseLookupHandler`` may answer it (and what it asks for), or where it ends so that it can be passed to NIO's decoder
/// whole.
///
/// It accepts a strict subset of RFC 9112: CRLF line endings, no leading empty lines, no obsolete line
/// folding, no control bytes, no request body. Anything outside that subset is
/// ``Result/unsupported``, and the connection's bytes go to NIO's decoder from there on, which then
/// accepts or refuses them exactly as it would without this scanner.
enum HTTPRequestHeadScanner {
    /// The longest head scanned; a longer one is left to the decoder and its configured limits.
    static let maximumHeadBytes = 8192

    enum Result: Equatable {
        /// The head is not complete yet (and within ``maximumHeadBytes``).
        case incomplete
        /// A complete head without a body.
        case request(Request)
        /// Not in the subset this scanner reads (a body, bare LF, folding, a head too long, …).
        case unsupported
    }

    struct Request: Equatable {
        /// Bytes of the head including its final empty line; nothing follows it that belongs to it.
        var length: Int
        /// What a keep-alive HTTP/1.1 GET without a header that changes its answer asks for; nil for
        /// any other request.
        var target: Target?
        /// Whether the connection ends with this request's response (HTTP/1.0 without keep-alive, or
        /// `Connection: close`): nothing after it may be answered (RFC 9112 §9.6).
        var closesConnection = false
    }

    /// The requests the raw path may answer; ranges are byte ranges within the scanned bytes.
    enum Target: Equatable {
        /// `GET /v1/releases/{container}/{channel}` with plain names.
        case release(container: Range<Int>, channel: Range<Int>)
        /// `GET /v1/releases`, with the value of its one `Accept-Encoding` field, if any.
        case wholeDatabase(acceptEncoding: Range<Int>?)
    }

    private static let releasesPrefix = Array("GET /v1/releases".utf8)
    private static let version11 = Array(" HTTP/1.1".utf8)
    private static let version10 = Array(" HTTP/1.0".utf8)

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")
    private static let space = UInt8(ascii: " ")
    private static let tab = UInt8(ascii: "\t")
    private static let colon = UInt8(ascii: ":")

    static func scan(_ bytes: UnsafeRawBufferPointer) -> Result {
        // The request line: METHOD SP target SP HTTP/1.x CRLF.
        guard let lineEnd = Self.lineEnd(in: bytes, from: 0) else { return Self.incompleteOrTooLong(bytes) }
        guard let lineEndIndex = lineEnd else { return .unsupported }
        guard let methodEnd = Self.firstIndex(of: Self.space, in: bytes, from: 0, to: lineEndIndex), methodEnd > 0,
            (0..<methodEnd).allSatisfy({ Self.isUppercaseLetter(bytes[$0]) })
        else { return .unsupported }
        let versionStart = lineEndIndex - Self.version11.count
        guard versionStart > methodEnd + 1 else { return .unsupported }
        let isHTTP11 = Self.matches(Self.version11, in: bytes, at: versionStart)
        guard isHTTP11 || Self.matches(Self.version10, in: bytes, at: versionStart) else { return .unsupported }
        let requestTarget = (methodEnd + 1)..<versionStart
        guard requestTarget.allSatisfy({ bytes[$0] > Self.space && bytes[$0] < 0x7F }) else { return .unsupported }

        // Header fields up to the empty line.
        var mayAnswer = isHTTP11 && Self.matches(Self.releasesPrefix, in: bytes, at: 0)
        var acceptEncoding: Range<Int>?
        var acceptEncodingFields = 0
        var closes = false
        var keepAlive = false
        var position = lineEndIndex + 2
        while true {
            guard let fieldEnd = Self.lineEnd(in: bytes, from: position) else { return Self.incompleteOrTooLong(bytes) }
            guard let fieldEndIndex = fieldEnd else { return .unsupported }
            if fieldEndIndex == position { break }
            guard let colon = Self.firstIndex(of: Self.colon, in: bytes, from: position, to: fieldEndIndex), colon > position,
                (position..<colon).allSatisfy({ Self.isTokenByte(bytes[$0]) }),
                ((colon + 1)..<fieldEndIndex).allSatisfy({ bytes[$0] >= Self.space && bytes[$0] != 0x7F || bytes[$0] == Self.tab })
            else { return .unsupported }
            let value = Self.trimmed(bytes, (colon + 1)..<fieldEndIndex)
            switch Self.field(bytes, position..<colon) {
            case .contentLength:
                // A body would need framing this scanner does not do.
                guard Self.equals(bytes, value, "0") else { return .unsupported }
            case .transferEncoding, .expect, .upgrade:
                return .unsupported
            case .connection:
                if Self.equalsIgnoringCase(bytes, value, "keep-alive") {
                    keepAlive = true
                } else {
                    mayAnswer = false
                    if Self.containsIgnoringCase(bytes, value, "close") { closes = true }
                }
            case .ifNoneMatch:
                mayAnswer = false
            case .acceptEncoding:
                acceptEncoding = value
                acceptEncodingFields += 1
            case .other:
                break
            }
            position = fieldEndIndex + 2
        }
        let length = position + 2
        guard length <= Self.maximumHeadBytes else { return .unsupported }
        guard mayAnswer else {
            return .request(Request(length: length, target: nil, closesConnection: closes || !(isHTTP11 || keepAlive)))
        }
        let target = Self.target(
            bytes,
            after: Self.releasesPrefix.count,
            before: versionStart,
            acceptEncoding: acceptEncoding,
            acceptEncodingFields: acceptEncodingFields
        )
        return .request(Request(length: length, target: target))
    }

    /// The target after "GET /v1/releases": nothing, or "/{container}/{channel}" with plain names
    /// (anything the router would decode is its).
    private static func target(
        _ bytes: UnsafeRawBufferPointer,
        after start: Int,
        before end: Int,
        acceptEncoding: Range<Int>?,
        acceptEncodingFields: Int
    ) -> Target? {
        if start == end {
            // Several Accept-Encoding fields are one list (RFC 9110 §5.3): the router joins them.
            return acceptEncodingFields <= 1 ? .wholeDatabase(acceptEncoding: acceptEncoding) : nil
        }
        guard bytes[start] == UInt8(ascii: "/"), let slash = Self.firstIndex(of: UInt8(ascii: "/"), in: bytes, from: start + 1, to: end) else {
            return nil
        }
        let container = (start + 1)..<slash
        let channel = (slash + 1)..<end
        guard !container.isEmpty, !channel.isEmpty, !channel.contains(where: { Self.needsRouter(bytes[$0]) }),
            !container.contains(where: { Self.needsRouter(bytes[$0]) })
        else { return nil }
        return .release(container: container, channel: channel)
    }

    // MARK: Pieces

    private enum Field {
        case contentLength, transferEncoding, expect, upgrade, connection, ifNoneMatch, acceptEncoding, other
    }

    private static let fields: [(name: [UInt8], field: Field)] = [
        (Array("content-length".utf8), .contentLength),
        (Array("transfer-encoding".utf8), .transferEncoding),
        (Array("expect".utf8), .expect),
        (Array("upgrade".utf8), .upgrade),
        (Array("connection".utf8), .connection),
        (Array("if-none-match".utf8), .ifNoneMatch),
        (Array("accept-encoding".utf8), .acceptEncoding),
    ]

    private static func field(_ bytes: UnsafeRawBufferPointer, _ name: Range<Int>) -> Field {
        for (candidate, field) in Self.fields where candidate.count == name.count {
            if zip(candidate, name).allSatisfy({ $0 == bytes[$1] | 0x20 }) { return field }
        }
        return .other
    }

    /// The index of the CR of the CRLF ending the line that starts at `start`: nil when the bytes end
    /// first, `.some(nil)` when the line holds a bare CR or LF (outside the subset).
    private static func lineEnd(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int?? {
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if byte == Self.lf { return .some(nil) }
            if byte == Self.cr {
                guard index + 1 < bytes.count else { return nil }
                return bytes[index + 1] == Self.lf ? .some(index) : .some(nil)
            }
            index += 1
        }
        return nil
    }

    private static func incompleteOrTooLong(_ bytes: UnsafeRawBufferPointer) -> Result {
        bytes.count > Self.maximumHeadBytes ? .unsupported : .incomplete
    }

    private static func firstIndex(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int? {
        (start..<end).first { bytes[$0] == byte }
    }

    private static func matches(_ literal: [UInt8], in bytes: UnsafeRawBufferPointer, at start: Int) -> Bool {
        start >= 0 && start + literal.count <= bytes.count && literal.indices.allSatisfy { bytes[start + $0] == literal[$0] }
    }

    private static func trimmed(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, bytes[lower] == Self.space || bytes[lower] == Self.tab { lower += 1 }
        while upper > lower, bytes[upper - 1] == Self.space || bytes[upper - 1] == Self.tab { upper -= 1 }
        return lower..<upper
    }

    private static func equals(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ literal: StaticString) -> Bool {
        range.count == literal.utf8CodeUnitCount
            && (0..<range.count).allSatisfy { bytes[range.lowerBound + $0] == literal.utf8Start[$0] }
    }

    private static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ literal: StaticString) -> Bool {
        range.count == literal.utf8CodeUnitCount
            && (0..<range.count).allSatisfy { bytes[range.lowerBound + $0] | 0x20 == literal.utf8Start[$0] }
    }

    /// Whether `literal` (lowercase) occurs in the range, whatever the case of its letters.
    private static func containsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard range.count >= count else { return false }
        return (range.lowerBound...(range.upperBound - count)).contains { start in
            Self.equalsIgnoringCase(bytes, start..<(start + count), literal)
        }
    }

    private static func isUppercaseLetter(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// Bytes after which the router's parsing (query, fragment, percent-decoding, more segments) matters.
    private static func needsRouter(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "%") || byte == UInt8(ascii: "#")
    }
}
