/// An OCI image reference, `[registry[:port]/]path[:tag][@sha256:…]`, parsed by the grammar of the
/// distribution reference specification (`github.com/distribution/reference`).
///
/// The first `/`-separated component is a registry only if it contains `.` or `:` or is `localhost`,
/// exactly as `docker pull` decides; otherwise it belongs to the path (`acme/app` is a Docker Hub path).
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
        let quoted = FieldRules.quoted(value)
        guard !value.isEmpty else { throw FieldError("image reference must not be empty") }
        guard value.utf8.count <= Self.maximumLength else {
            throw FieldError("image reference is \(value.utf8.count) bytes long, at most \(Self.maximumLength) are allowed")
        }
        var remainder = Substring(value)
        if let at = remainder.firstIndex(of: "@") {
            let digest = String(remainder[remainder.index(after: at)...])
            do throws(FieldError) {
                try FieldRules.checkDigest(digest)
            } catch {
                throw FieldError("invalid image reference \(quoted): the digest after '@' must be \"sha256:\" and 64 lowercase hex digits")
            }
            self.digest = digest
            remainder = remainder[..<at]
        } else {
            self.digest = nil
        }
        let lastSlash = remainder.lastIndex(of: "/")
        let searchStart = lastSlash.map { remainder.index(after: $0) } ?? remainder.startIndex
        if let colon = remainder[searchStart...].lastIndex(of: ":") {
            let tag = String(remainder[remainder.index(after: colon)...])
            try Self.checkTag(tag, in: quoted)
            self.tag = tag
            remainder = remainder[..<colon]
        } else {
            self.tag = nil
        }
        guard remainder.utf8.count <= Self.maximumNameLength else {
            throw FieldError("invalid image reference \(quoted): the name is longer than \(Self.maximumNameLength) bytes")
        }
        var components = remainder.split(separator: "/", omittingEmptySubsequences: false)
        if components.count > 1, components[0].contains(".") || components[0].contains(":") || components[0] == "localhost" {
            try Self.checkRegistry(components[0], in: quoted)
            self.registry = String(components[0])
            components.removeFirst()
        } else {
            self.registry = nil
        }
        for component in components {
            try Self.checkPathComponent(component, in: quoted)
        }
        self.path = components.joined(separator: "/")
    }

    /// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`
    static func checkTag(_ tag: String, in quoted: String) throws(FieldError) {
        let bytes = Array(tag.utf8)
        func isWord(_ byte: UInt8) -> Bool { FieldRules.isAlnum(byte) || byte == UInt8(ascii: "_") }
        guard (1...128).contains(bytes.count), isWord(bytes[0]),
            bytes.allSatisfy({ isWord($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") })
        else {
            throw FieldError("invalid image reference \(quoted): the tag must be 1–128 of letters, digits, '_', '.', '-' and not start with '.' or '-'")
        }
    }

    /// `host[:port]` where host is dot-separated labels or a bracketed IPv6 address.
    static func checkRegistry(_ registry: Substring, in quoted: String) throws(FieldError) {
        let problem = FieldError("invalid image reference \(quoted): registry \"\(registry)\" is not a valid host[:port]")
        var host = registry
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw problem }
            let address = host[host.index(after: host.startIndex)..<close]
            guard !address.isEmpty, address.contains(":"),
                address.utf8.allSatisfy({ FieldRules.isDigit($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0 | 0x20) || $0 == UInt8(ascii: ":") })
            else { throw problem }
            host = host[host.index(after: close)...]
            if host.isEmpty { return }
            guard host.first == ":" else { throw problem }
            try Self.checkPort(host.dropFirst(), problem: problem)
            return
        }
        if let colon = host.firstIndex(of: ":") {
            try Self.checkPort(host[host.index(after: colon)...], problem: problem)
            host = host[..<colon]
        }
        for label in host.split(separator: ".", omittingEmptySubsequences: false) {
            let bytes = Array(label.utf8)
            guard !bytes.isEmpty, FieldRules.isAlnum(bytes[0]), FieldRules.isAlnum(bytes[bytes.count - 1]),
                bytes.allSatisfy({ FieldRules.isAlnum($0) || $0 == UInt8(ascii: "-") })
            else { throw problem }
        }
    }

    static func checkPort(_ port: Substring, problem: FieldError) throws(FieldError) {
        guard let number = Int(port), (1...65535).contains(number), port.utf8.allSatisfy(FieldRules.isDigit) else {
            throw problem
        }
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
    static func checkPathComponent(_ component: Substring, in quoted: String) throws(FieldError) {
        let bytes = Array(component.utf8)
        guard !bytes.isEmpty else {
            throw FieldError("invalid image reference \(quoted): the repository path has an empty component")
        }
        if bytes.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) {
            throw FieldError("invalid image reference \(quoted): the repository path must be lowercase")
        }
        let problem = FieldError(
            "invalid image reference \(quoted): path component \"\(component)\" must be lowercase letters and digits separated by '.', '_', '__' or '-'"
        )
        var index = 0
        while true {
            let start = index
            while index < bytes.count, FieldRules.isLowerAlnum(bytes[index]) { index += 1 }
            guard index > start else { throw problem }
            if index == bytes.count { return }
            switch bytes[index] {
            case UInt8(ascii: "."):
                index += 1
            case UInt8(ascii: "_"):
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "_") { index += 1 }
            case UInt8(ascii: "-"):
                while index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            default:
                throw problem
            }
        }
    }
}
