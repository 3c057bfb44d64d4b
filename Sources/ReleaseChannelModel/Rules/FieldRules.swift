/// The rules for every scalar field of the db format, shared by the file validator and the CLI's update
/// commands so that a value accepted on the command line is exactly a value the server accepts.
public enum FieldRules {
    /// Largest `run_id` accepted: the largest integer a JSON number holds exactly in every parser.
    public static let maximumRunID: Int64 = 9_007_199_254_740_991
    /// Most channels a db may declare.
    public static let maximumChannels = 16

    /// A lowercase DNS-1123 label (the Kubernetes name rule): 1–63 of `[a-z0-9-]`, alphanumeric at both ends.
    public static func checkDNSLabel(_ value: String, what: String) throws(FieldError) {
        if Self.withBytes(value, Self.isValidDNSLabel) { return }
        let count = value.utf8.count
        guard count > 0 else { throw FieldError("\(what) must not be empty") }
        guard count <= 63 else { throw FieldError("\(what) is \(count) characters long, at most 63 are allowed") }
        guard Self.withBytes(value, { $0.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") } }) else {
            throw FieldError(
                "\(what) \(quoted(value)) may contain only lowercase letters, digits and '-' (a DNS-1123 label)"
            )
        }
        guard Self.withBytes(value, { isLowerAlnum($0[0]) && isLowerAlnum($0[$0.count - 1]) }) else {
            throw FieldError("\(what) \(quoted(value)) must start and end with a lowercase letter or digit")
        }
    }

    /// ``checkDNSLabel(_:what:)`` over bytes, without the message.
    static func isValidDNSLabel(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        (1...63).contains(bytes.count) && bytes.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
            && isLowerAlnum(bytes[0]) && isLowerAlnum(bytes[bytes.count - 1])
    }

    /// `container`: a lowercase DNS-1123 label.
    public static func checkContainer(_ value: String) throws(FieldError) {
        try self.checkDNSLabel(value, what: "container name")
    }

    /// A channel name as declared in `channels`: a lowercase DNS-1123 label.
    public static func checkChannelName(_ value: String) throws(FieldError) {
        try self.checkDNSLabel(value, what: "channel name")
    }

    /// `channels` as a whole: 1 to ``maximumChannels`` valid names, none twice. For lists made outside a
    /// db file (`db generate --channels`); the decoders check a file's list element by element, with
    /// each element's position, and the same messages.
    public static func checkChannelList(_ names: [String]) throws(FieldError) {
        guard (1...Self.maximumChannels).contains(names.count) else {
            throw FieldError("must list between 1 and \(Self.maximumChannels) channels, found \(names.count)")
        }
        for (index, name) in names.enumerated() {
            try Self.checkChannelName(name)
            guard !names[..<index].contains(name) else { throw FieldError("channel \(quoted(name)) is listed twice") }
        }
    }

    /// `digest`: `sha256:` followed by 64 lowercase hex digits.
    public static func checkDigest(_ value: String) throws(FieldError) {
        guard Self.withBytes(value, Self.isValidDigest) else {
            throw FieldError("digest \(quoted(value)) must be \"sha256:\" followed by 64 lowercase hex digits")
        }
    }

    static func isValidDigest(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.count == 71 && bytes.starts(with: "sha256:".utf8) && bytes[7...].allSatisfy(isLowerHex)
    }

    /// `image`: an OCI image reference (see ``ImageReference``).
    public static func checkImage(_ value: String) throws(FieldError) {
        _ = try ImageReference.validatedDigest(of: value)
    }

    /// `updated_at`: an RFC 3339 timestamp in UTC.
    public static func checkTimestamp(_ value: String) throws(FieldError) {
        try RFC3339Timestamp.validate(value)
    }

    /// `source.repository`: a GitHub `owner/name`.
    public static func checkRepository(_ value: String) throws(FieldError) {
        guard Self.withBytes(value, Self.isValidRepository) else {
            throw FieldError("source repository \(quoted(value)) must be a GitHub \"owner/name\"")
        }
    }

    static func isValidRepository(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let slash = bytes.firstIndex(of: UInt8(ascii: "/")) else { return false }
        let owner = bytes[..<slash]
        let name = bytes[(slash + 1)...]
        guard (1...39).contains(owner.count), let first = owner.first, isAlnum(first),
            owner.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: "-") })
        else { return false }
        return (1...100).contains(name.count)
            && name.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// `source.sha`: a full 40-digit lowercase hex git commit id.
    public static func checkCommitSHA(_ value: String) throws(FieldError) {
        guard Self.withBytes(value, Self.isValidCommitSHA) else {
            throw FieldError("source sha \(quoted(value)) must be 40 lowercase hex digits")
        }
    }

    static func isValidCommitSHA(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.count == 40 && bytes.allSatisfy(isLowerHex)
    }

    /// `source.ref`: a fully qualified git ref such as `refs/heads/main`.
    public static func checkGitRef(_ value: String) throws(FieldError) {
        guard Self.withBytes(value, Self.isFullGitRef) else {
            throw FieldError("source ref \(quoted(value)) must be a full git ref such as \"refs/heads/main\" (6–255 characters)")
        }
        guard Self.withBytes(value, Self.hasOnlyRefCharacters) else {
            throw FieldError("source ref \(quoted(value)) contains characters git does not allow in a ref")
        }
    }

    static func isValidGitRef(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        Self.isFullGitRef(bytes) && Self.hasOnlyRefCharacters(bytes)
    }

    static func isFullGitRef(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.starts(with: "refs/".utf8) && (6...255).contains(bytes.count)
    }

    static func hasOnlyRefCharacters(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var previous: UInt8 = 0
        for byte in bytes {
            guard Self.isAllowedInRef(byte), !(byte == UInt8(ascii: ".") && previous == UInt8(ascii: ".")) else { return false }
            previous = byte
        }
        return true
    }

    /// Not a control character, space, DEL or one of `~^:?*[\` (git-check-ref-format).
    static func isAllowedInRef(_ byte: UInt8) -> Bool {
        switch byte {
        case 0...0x20, 0x7F: false
        case UInt8(ascii: "~"), UInt8(ascii: "^"), UInt8(ascii: ":"), UInt8(ascii: "?"), UInt8(ascii: "*"), UInt8(ascii: "["), UInt8(ascii: "\\"): false
        default: true
        }
    }

    /// `source.run_id`: a positive GitHub Actions run id.
    public static func checkRunID(_ value: Int64) throws(FieldError) {
        guard value >= 1, value <= self.maximumRunID else {
            throw FieldError("source run_id \(value) must be between 1 and \(self.maximumRunID)")
        }
    }

    /// `source.actor`: a GitHub login, optionally with the `[bot]` suffix of app accounts.
    public static func checkActor(_ value: String) throws(FieldError) {
        guard Self.withBytes(value, Self.isValidActor) else {
            throw FieldError("source actor \(quoted(value)) must be a GitHub login (1–39 letters, digits or '-')")
        }
    }

    static func isValidActor(_ all: UnsafeBufferPointer<UInt8>) -> Bool {
        let bytes = all.reversed().starts(with: "[bot]".utf8.reversed()) ? all.dropLast(5) : all[...]
        return (1...39).contains(bytes.count) && isAlnum(bytes[bytes.startIndex])
            && bytes.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: "-") })
    }

    /// Runs `body` over the UTF-8 bytes of `value` in place: these checks run for every field of every
    /// release on each reload, and copying each value into an array first was a visible part of that.
    static func withBytes<Result>(_ value: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        var contiguous = value
        return contiguous.withUTF8(body)
    }

    // MARK: Character classes

    static func isLowerAlnum(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || isDigit(byte)
    }

    static func isAlnum(_ byte: UInt8) -> Bool {
        isLowerAlnum(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    static func isLowerHex(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }

    /// Quotes a value for an error message, shortened so a 10,000-character input does not flood the log.
    public static func quoted(_ value: String) -> String {
        var escaped = ""
        for scalar in value.unicodeScalars.prefix(80) {
            // Format characters (bidirectional controls, zero-width ones) would make the message read
            // differently from the value: shown as \u{…}, like control characters.
            escaped += scalar.escaped(asASCII: scalar.properties.generalCategory == .format)
        }
        return "\"\(escaped)\"" + (value.unicodeScalars.count > 80 ? "… (\(value.utf8.count) bytes)" : "")
    }
}
