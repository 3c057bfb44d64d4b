/// Parsing of `Accept-Encoding` and `If-None-Match` for the snapshot's bodies.
enum ContentNegotiation {
    /// True when `gzip` (or `*`) is listed with a non-zero quality.
    static func acceptsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";")
            guard let coding = parts.first?.trimmingSpaces.lowercased(), coding == "gzip" || coding == "*" else { continue }
            let quality = parts.dropFirst().lazy.compactMap { parameter -> Double? in
                let pair = parameter.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, pair[0].trimmingSpaces.lowercased() == "q" else { return nil }
                return Double(pair[1].trimmingSpaces)
            }.first ?? 1
            return quality > 0
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
