/// A strict RFC 8259 parser over UTF-8 bytes that records the line and column of every value.
///
/// Foundation's parsers report positions only for syntax errors; the db validator needs them for every
/// semantic error too ("releases[17].image (40:16): …"), so the document is parsed into ``JSONNode``s.
/// Duplicate object keys are rejected: with them a typo could silently shadow the real value.
public struct JSONParser {
    /// Nesting deeper than this is rejected instead of risking the stack on hostile input.
    public static let maximumDepth = 64

    /// Parses a complete document; trailing non-whitespace is an error.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONSyntaxError) -> JSONNode {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { (buffer) throws(JSONSyntaxError) -> JSONNode in
            var parser = Parser(bytes: buffer)
            return try parser.parseDocument()
        }
    }
}

private struct Parser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var line = 1
    var lineStart = 0
    var depth = 0

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    var position: JSONPosition { JSONPosition(line: self.line, column: self.index - self.lineStart + 1) }

    func error(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(message: message, position: self.position)
    }

    mutating func parseDocument() throws(JSONSyntaxError) -> JSONNode {
        // A UTF-8 byte order mark is tolerated, as editors on some platforms write one.
        if self.bytes.count >= 3, self.bytes[0] == 0xEF, self.bytes[1] == 0xBB, self.bytes[2] == 0xBF {
            self.index = 3
            self.lineStart = 3
        }
        self.skipWhitespace()
        guard self.index < self.bytes.count else { throw self.error("document is empty") }
        let node = try self.parseValue()
        self.skipWhitespace()
        guard self.index == self.bytes.count else { throw self.error("unexpected data after the top-level value") }
        return node
    }

    mutating func skipWhitespace() {
        while self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                self.index += 1
            case UInt8(ascii: "\n"):
                self.index += 1
                self.line += 1
                self.lineStart = self.index
            default:
                return
            }
        }
    }

    mutating func parseValue() throws(JSONSyntaxError) -> JSONNode {
        let start = self.position
        guard self.index < self.bytes.count else { throw self.error("unexpected end of document") }
        switch self.bytes[self.index] {
        case UInt8(ascii: "{"):
            return JSONNode(value: try self.parseObject(), position: start)
        case UInt8(ascii: "["):
            return JSONNode(value: try self.parseArray(), position: start)
        case UInt8(ascii: "\""):
            return JSONNode(value: .string(try self.parseString()), position: start)
        case UInt8(ascii: "t"):
            try self.expectLiteral("true")
            return JSONNode(value: .bool(true), position: start)
        case UInt8(ascii: "f"):
            try self.expectLiteral("false")
            return JSONNode(value: .bool(false), position: start)
        case UInt8(ascii: "n"):
            try self.expectLiteral("null")
            return JSONNode(value: .null, position: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return JSONNode(value: try self.parseNumber(), position: start)
        default:
            throw self.error("unexpected character \(self.describeCurrentByte()), expected a value")
        }
    }

    func describeCurrentByte() -> String {
        let byte = self.bytes[self.index]
        if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        guard self.index + count <= self.bytes.count else { throw self.error("invalid literal, expected '\(literal)'") }
        for offset in 0..<count where self.bytes[self.index + offset] != literal.utf8Start[offset] {
            throw self.error("invalid literal, expected '\(literal)'")
        }
        self.index += count
    }

    mutating func enterContainer() throws(JSONSyntaxError) {
        self.depth += 1
        guard self.depth <= JSONParser.maximumDepth else {
            throw self.error("nesting deeper than \(JSONParser.maximumDepth) levels")
        }
    }

    mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        try self.enterContainer()
        self.index += 1  // "{"
        var members: [JSONMember] = []
        self.skipWhitespace()
        if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "}") {
            self.index += 1
            self.depth -= 1
            return .object(members)
        }
        while true {
            self.skipWhitespace()
            guard self.index < self.bytes.count else { throw self.error("unexpected end of document inside an object") }
            guard self.bytes[self.index] == UInt8(ascii: "\"") else {
                throw self.error("unexpected character \(self.describeCurrentByte()), expected a string key")
            }
            let keyPosition = self.position
            let key = try self.parseString()
            // Objects in a db have a handful of keys: a linear scan beats hashing every key.
            guard !members.contains(where: { $0.key == key }) else {
                throw JSONSyntaxError(message: "duplicate key \"\(key)\"", position: keyPosition)
            }
            self.skipWhitespace()
            guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: ":") else {
                throw self.error("expected ':' after key \"\(key)\"")
            }
            self.index += 1
            self.skipWhitespace()
            let value = try self.parseValue()
            members.append(JSONMember(key: key, keyPosition: keyPosition, value: value))
            self.skipWhitespace()
            guard self.index < self.bytes.count else { throw self.error("unexpected end of document inside an object") }
            switch self.bytes[self.index] {
            case UInt8(ascii: ","):
                self.index += 1
            case UInt8(ascii: "}"):
                self.index += 1
                self.depth -= 1
                return .object(members)
            default:
                throw self.error("unexpected character \(self.describeCurrentByte()), expected ',' or '}'")
            }
        }
    }

    mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        try self.enterContainer()
        self.index += 1  // "["
        var elements: [JSONNode] = []
        self.skipWhitespace()
        if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "]") {
            self.index += 1
            self.depth -= 1
            return .array(elements)
        }
        while true {
            self.skipWhitespace()
            elements.append(try self.parseValue())
            self.skipWhitespace()
            guard self.index < self.bytes.count else { throw self.error("unexpected end of document inside an array") }
            switch self.bytes[self.index] {
            case UInt8(ascii: ","):
                self.index += 1
            case UInt8(ascii: "]"):
                self.index += 1
                self.depth -= 1
                return .array(elements)
            default:
                throw self.error("unexpected character \(self.describeCurrentByte()), expected ',' or ']'")
            }
        }
    }

    mutating func parseString() throws(JSONSyntaxError) -> String {
        self.index += 1  // opening quote
        let start = self.index
        // Fast path: no escapes, which is every string in a canonical db.
        var bits: UInt8 = 0
        while self.index < self.bytes.count {
            let byte = self.bytes[self.index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: self.bytes[start..<self.index])
                self.index += 1
                // ASCII needs no UTF-8 validation, and `String(validating:)` (generic over the encoding)
                // was a tenth of the parse in the profile.
                if bits < 0x80 { return String(decoding: slice, as: UTF8.self) }
                guard let string = String(validating: slice, as: UTF8.self) else {
                    self.index -= 1
                    throw JSONSyntaxError(message: "string is not valid UTF-8", position: self.position)
                }
                return string
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw self.error("unescaped control character in string") }
            bits |= byte
            self.index += 1
        }
        guard self.index < self.bytes.count else { throw self.error("unterminated string") }
        var scalars: [UInt8] = Array(UnsafeBufferPointer(rebasing: self.bytes[start..<self.index]))
        while self.index < self.bytes.count {
            let byte = self.bytes[self.index]
            switch byte {
            case UInt8(ascii: "\""):
                self.index += 1
                guard let string = String(validating: scalars, as: UTF8.self) else {
                    throw self.error("string is not valid UTF-8")
                }
                return string
            case UInt8(ascii: "\\"):
                try self.parseEscape(into: &scalars)
            case 0..<0x20:
                throw self.error("unescaped control character in string")
            default:
                scalars.append(byte)
                self.index += 1
            }
        }
        throw self.error("unterminated string")
    }

    mutating func parseEscape(into output: inout [UInt8]) throws(JSONSyntaxError) {
        self.index += 1  // backslash
        guard self.index < self.bytes.count else { throw self.error("unterminated escape sequence") }
        let byte = self.bytes[self.index]
        self.index += 1
        switch byte {
        case UInt8(ascii: "\""): output.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): output.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): output.append(0x08)
        case UInt8(ascii: "f"): output.append(0x0C)
        case UInt8(ascii: "n"): output.append(0x0A)
        case UInt8(ascii: "r"): output.append(0x0D)
        case UInt8(ascii: "t"): output.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try self.parseHex4()
            if (0xD800...0xDBFF).contains(scalar) {
                guard self.index + 1 < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "\\"),
                    self.bytes[self.index + 1] == UInt8(ascii: "u")
                else { throw self.error("unpaired UTF-16 surrogate in \\u escape") }
                self.index += 2
                let low = try self.parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw self.error("invalid UTF-16 surrogate pair") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw self.error("unpaired UTF-16 surrogate in \\u escape")
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw self.error("invalid \\u escape") }
            output.append(contentsOf: Array(String(Character(unicode)).utf8))
        default:
            self.index -= 1
            throw self.error("invalid escape sequence \\\(Character(Unicode.Scalar(byte)))")
        }
    }

    mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
        guard self.index + 4 <= self.bytes.count else { throw self.error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = self.bytes[self.index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw self.error("invalid hex digit in \\u escape")
            }
            value = value << 4 | UInt32(digit)
            self.index += 1
        }
        return value
    }

    mutating func parseNumber() throws(JSONSyntaxError) -> JSONValue {
        let start = self.index
        var isInteger = true
        if self.bytes[self.index] == UInt8(ascii: "-") { self.index += 1 }
        guard self.index < self.bytes.count, self.isDigit(self.bytes[self.index]) else {
            throw self.error("invalid number: expected a digit")
        }
        if self.bytes[self.index] == UInt8(ascii: "0") {
            self.index += 1
            if self.index < self.bytes.count, self.isDigit(self.bytes[self.index]) {
                throw self.error("invalid number: leading zeros are not allowed")
            }
        } else {
            self.skipDigits()
        }
        if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: ".") {
            isInteger = false
            self.index += 1
            guard self.index < self.bytes.count, self.isDigit(self.bytes[self.index]) else {
                throw self.error("invalid number: expected a digit after '.'")
            }
            self.skipDigits()
        }
        if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "e") || self.bytes[self.index] == UInt8(ascii: "E") {
            isInteger = false
            self.index += 1
            if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "+") || self.bytes[self.index] == UInt8(ascii: "-") {
                self.index += 1
            }
            guard self.index < self.bytes.count, self.isDigit(self.bytes[self.index]) else {
                throw self.error("invalid number: expected a digit in the exponent")
            }
            self.skipDigits()
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: self.bytes[start..<self.index]), as: UTF8.self)
        if isInteger, let integer = Int64(text) { return .integer(integer) }
        guard let double = Double(text), double.isFinite else { throw self.error("number out of range") }
        return .number(double)
    }

    func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    mutating func skipDigits() {
        while self.index < self.bytes.count, self.isDigit(self.bytes[self.index]) { self.index += 1 }
    }
}
