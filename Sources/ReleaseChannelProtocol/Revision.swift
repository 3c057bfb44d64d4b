/// A db revision: 16 lowercase hex digits in JSON, their 8 bytes on the wire.
public struct Revision: Hashable, Sendable, CustomStringConvertible {
    /// The 8 bytes as a big-endian integer.
    public let value: UInt64

    public init(value: UInt64) {
        self.value = value
    }

    /// Parses 16 hex digits; nil for anything else.
    public init?(hex: some StringProtocol) {
        guard hex.utf8.count == 16, let value = UInt64(hex, radix: 16) else { return nil }
        self.value = value
    }

    /// All zero: "no revision" in requests and before anything is loaded.
    public static let none = Revision(value: 0)

    /// 16 lowercase hex digits.
    public var hex: String {
        let digits = String(self.value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    public var description: String { self.hex }
}
