/// Parsing of `Accept-Encoding` and `If-None-Match` for the snapshot's bodies.
enum ContentNegotiation {
    /// True when `gzip` (or `*`) is listed with a non-zero quality.
    static func acceptsGzip(_ header: String?) -> Bool {
        guard var header else { return false }
        return header.withUTF8 { Self.acceptsGzip(UnsafeRawBufferPointer($0)) }
    }

    /// The same, on the header value's bytes: the raw lookup path reads it where it arrived, without
    /// making strings of it (which had cost about 3% of the server's CPU on whole-db downloads).
    ///
    /// The first list item naming `gzip` or `*` (case-insensitive) decides: its first `q` parameter
    /// that is a number, else quality 1.
    static func acceptsGzip(_ header: UnsafeRawBufferPointer) -> Bool {
        var itemStart = 0
        while itemStart < header.count {
            let itemEnd = header[itemStart...].firstIndex(of: UInt8(ascii: ",")) ?? header.count
            defer { itemStart = itemEnd + 1 }
            var parameterStart = header[itemStart..<itemEnd].firstIndex(of: UInt8(ascii: ";")) ?? itemEnd
            let coding = header[itemStart..<parameterStart].trimmingSpaces
            guard coding.equalsLowercase("gzip") || coding.elementsEqual(CollectionOfOne(UInt8(ascii: "*"))) else { continue }
            while parameterStart < itemEnd {
                let start = parameterStart + 1
                parameterStart = header[start..<itemEnd].firstIndex(of: UInt8(ascii: ";")) ?? itemEnd
                guard let equals = header[start..<parameterStart].firstIndex(of: UInt8(ascii: "=")),
                    header[start..<equals].trimmingSpaces.equalsLowercase("q"),
                    let quality = Double(String(decoding: header[(equals + 1)..<parameterStart].trimmingSpaces, as: UTF8.self))
                else { continue }
                return quality > 0
            }
            return true
        }
        return false
    }

    /// True when the `If-None-Match` list names this revision in either encoding, or is `*`.
    /// Weak comparison (RFC 9110 §13.1.2): a `W/` prefix is ignored.
    static func matches(_ header: String, revision: String) -> Bool {
        for item in header.split(separator: ",") {
            var tag = item.trimmingSpaces
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            guard tag.count >= 2, tag.first == "\"", tag.last == "\"" else { continue }
            let value = tag.dropFirst().dropLast()
            if value == revision || value == "\(revision)-gzip" { return true }
        }
        return false
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var result = self
        while result.first == " " || result.first == "\t" { result = result.dropFirst() }
        while result.last == " " || result.last == "\t" { result = result.dropLast() }
        return result
    }
}

extension Slice<UnsafeRawBufferPointer> {
    fileprivate var trimmingSpaces: Self {
        var result = self
        while let first = result.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { result = result.dropFirst() }
        while let last = result.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { result = result.dropLast() }
        return result
    }

    /// True when these bytes are `lowercase` in any case (`lowercase` is ASCII lowercase letters).
    fileprivate func equalsLowercase(_ lowercase: StaticString) -> Bool {
        guard self.count == lowercase.utf8CodeUnitCount else { return false }
        return zip(self, UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)).allSatisfy { ($0 | 0x20) == $1 }
    }
}
