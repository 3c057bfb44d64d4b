/// An OCI image reference, `[registry[:port]/]path[:tag][@sha256:…]`, parsed by the grammar of the
/// distribution reference specification (`github.com/distribution/reference`).
///
/// The first `/`-separated component is a registry only if it contains `.` or `:` or is `localhost`,
/// exactly as `docker pull` decides; otherwise it belongs to the path (`acme/app` is a Docker Hub path).
/// Parsing works on the UTF-8 bytes and builds an error message only when there is an error: it runs
/// for every release on every reload.
public struct ImageReference: Sendable, Hashable {
    /// Longest accepted reference in bytes.
    public static let maximumLength = 512
    /// Longest accepted name (registry + path) in bytes, as in the distribution spec.
    public static let maximumNameLength = 255

    public var registry: String?
    public var path: String
    public var tag: String?
    /// `sha256:<64 hex>` when the reference pins a digest.
    public var digest: String?

    public init(parsing value: String) throws(FieldError) {
        let parts = try Self.parts(of: value)
        self.registry = parts.registry.map { Self.text(value, $0) }
        self.path = Self.text(value, parts.path)
        self.tag = parts.tag.map { Self.text(value, $0) }
        self.digest = parts.digest.map { Self.text(value, $0) }
    }

    /// Checks `value` without building the parts (the reload runs this for every release): returns the
    /// pinned digest (`sha256:…` after `@`), or nil when the reference has none.
    public static func validatedDigest(of value: String) throws(FieldError) -> String? {
        try Self.parts(of: value).digest.map { Self.text(value, $0) }
    }

    private static func text(_ value: String, _ range: Range<Int>) -> String {
        String(decoding: value.utf8.dropFirst(range.lowerBound).prefix(range.count), as: UTF8.self)
    }

    /// ``validatedDigest(of:)`` over bytes: nil when the reference is invalid, else the byte range of its
    /// pinned digest, if any.
    static func digestRange(ofValid bytes: UnsafeBufferPointer<UInt8>) -> Range<Int>?? {
        guard let parts = try? Self.parse(bytes) else { return nil }
        return .some(parts.digest)
    }

    /// Byte ranges of the parts in the reference's UTF-8.
    private struct Parts {
        var registry: Range<Int>?
        var path: Range<Int>
        var tag: Range<Int>?
        var digest: Range<Int>?
    }

    private static func parts(of value: String) throws(FieldError) -> Parts {
        var contiguous = value
        return try contiguous.withUTF8 { bytes in
            Result { () throws(FieldError) in try Self.parse(bytes) }
        }.get()
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(FieldError) -> Parts {
        func invalid(_ reason: String) -> FieldError {
            FieldError("invalid image reference \(FieldRules.quoted(String(decoding: bytes, as: UTF8.self))): \(reason)")
        }
        guard !bytes.isEmpty else { throw FieldError("image reference must not be empty") }
        guard bytes.count <= Self.maximumLength else {
            throw FieldError("image reference is \(bytes.count) bytes long, at most \(Self.maximumLength) are allowed")
        }
        var parts = Parts(path: 0..<0)
        var end = bytes.count
        if let at = bytes.firstIndex(of: UInt8(ascii: "@")) {
            let digest = bytes[(at + 1)...]
            guard digest.count == 71, digest.starts(with: "sha256:".utf8), digest.dropFirst(7).allSatisfy(FieldRules.isLowerHex) else {
                throw invalid("the digest after '@' must be \"sha256:\" and 64 lowercase hex digits")
            }
            parts.digest = (at + 1)..<bytes.count
            end = at
        }
        let lastSlash = bytes[..<end].lastIndex(of: UInt8(ascii: "/"))
        if let colon = bytes[((lastSlash ?? -1) + 1)..<end].lastIndex(of: UInt8(ascii: ":")) {
            let tag = bytes[(colon + 1)..<end]
            func isWord(_ byte: UInt8) -> Bool { FieldRules.isAlnum(byte) || byte == UInt8(ascii: "_") }
            guard (1...128).contains(tag.count), let first = tag.first, isWord(first),
                tag.allSatisfy({ isWord($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") })
            else {
                throw invalid("the tag must be 1–128 of letters, digits, '_', '.', '-' and not start with '.' or '-'")
            }
            parts.tag = (colon + 1)..<end
            end = colon
        }
        guard end <= Self.maximumNameLength else { throw invalid("the name is longer than \(Self.maximumNameLength) bytes") }
        var start = 0
        if let firstSlash = bytes[..<end].firstIndex(of: UInt8(ascii: "/")) {
            let first = bytes[0..<firstSlash]
            if first.contains(UInt8(ascii: ".")) || first.contains(UInt8(ascii: ":")) || first.elementsEqual("localhost".utf8) {
                guard Self.isValidRegistry(first) else {
                    throw invalid("registry \"\(String(decoding: first, as: UTF8.self))\" is not a valid host[:port]")
                }
                parts.registry = 0..<firstSlash
                start = firstSlash + 1
            }
        }
        // Components one by one (no array of them: this runs for every release).
        var componentStart = start
        while true {
            let componentEnd = bytes[componentStart..<end].firstIndex(of: UInt8(ascii: "/")) ?? end
            let component = bytes[componentStart..<componentEnd]
            guard !component.isEmpty else { throw invalid("the repository path has an empty component") }
            if component.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) {
                throw invalid("the repository path must be lowercase")
            }
            guard Self.isValidPathComponent(component) else {
                throw invalid(
                    "path component \"\(String(decoding: component, as: UTF8.self))\" must be lowercase letters and digits separated by '.', '_', '__' or '-'"
                )
            }
            if componentEnd == end { break }
            componentStart = componentEnd + 1
        }
        parts.path = start..<end
        return parts
    }

    typealias Bytes = Slice<UnsafeBufferPointer<UInt8>>

    /// `host[:port]` where host is dot-separated labels or a bracketed IPv6 address.
    static func isValidRegistry(_ registry: Bytes) -> Bool {
        var host = registry
        if host.first == UInt8(ascii: "[") {
            guard let close = host.firstIndex(of: UInt8(ascii: "]")) else { return false }
            let address = host[(host.startIndex + 1)..<close]
            guard !address.isEmpty, address.contains(UInt8(ascii: ":")),
                address.allSatisfy({ FieldRules.isDigit($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0 | 0x20) || $0 == UInt8(ascii: ":") })
            else { return false }
            host = host[(close + 1)...]
            if host.isEmpty { return true }
            return host.first == UInt8(ascii: ":") && Self.isValidPort(host.dropFirst())
        }
        if let colon = host.firstIndex(of: UInt8(ascii: ":")) {
            guard Self.isValidPort(host[(colon + 1)...]) else { return false }
            host = host[..<colon]
        }
        var labelStart = host.startIndex
        while true {
            let labelEnd = host[labelStart...].firstIndex(of: UInt8(ascii: ".")) ?? host.endIndex
            let label = host[labelStart..<labelEnd]
            guard let first = label.first, let last = label.last, FieldRules.isAlnum(first), FieldRules.isAlnum(last),
                label.allSatisfy({ FieldRules.isAlnum($0) || $0 == UInt8(ascii: "-") })
            else { return false }
            if labelEnd == host.endIndex { return true }
            labelStart = labelEnd + 1
        }
    }

    static func isValidPort(_ port: Bytes) -> Bool {
        guard (1...5).contains(port.count), port.allSatisfy(FieldRules.isDigit) else { return false }
        let number = port.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        return (1...65535).contains(number)
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
    static func isValidPathComponent(_ bytes: Bytes) -> Bool {
        var index = bytes.startIndex
        while true {
            let start = index
            while index < bytes.endIndex, FieldRules.isLowerAlnum(bytes[index]) { index += 1 }
            guard index > start else { return false }
            if index == bytes.endIndex { return true }
            switch bytes[index] {
            case UInt8(ascii: "."):
                index += 1
            case UInt8(ascii: "_"):
                index += 1
                if index < bytes.endIndex, bytes[index] == UInt8(ascii: "_") { index += 1 }
            case UInt8(ascii: "-"):
                while index < bytes.endIndex, bytes[index] == UInt8(ascii: "-") { index += 1 }
            default:
                return false
            }
        }
    }
}
