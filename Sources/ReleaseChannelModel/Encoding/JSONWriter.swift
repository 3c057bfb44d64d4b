/// Appends JSON tokens to a byte array; the encoders build on it so escaping lives in one place.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 0) {
        self.bytes = []
        self.bytes.reserveCapacity(capacity)
    }

    public mutating func raw(_ text: StaticString) {
        self.bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    public mutating func raw(_ text: String) {
        self.bytes.append(contentsOf: text.utf8)
    }

    public mutating func raw(contentsOf bytes: some Sequence<UInt8>) {
        self.bytes.append(contentsOf: bytes)
    }

    public mutating func raw(_ byte: UInt8) {
        self.bytes.append(byte)
    }

    /// Empties the writer, keeping its capacity for the next value.
    public mutating func removeAll() {
        self.bytes.removeAll(keepingCapacity: true)
    }

    public mutating func integer(_ value: Int64) {
        self.bytes.append(contentsOf: String(value).utf8)
    }

    /// A quoted string with the minimal escaping of RFC 8259 (`"`, `\`, control characters); `/` and
    /// non-ASCII are written as they are.
    public mutating func string(_ value: String) {
        self.bytes.append(UInt8(ascii: "\""))
        // Fast path: nearly every string in a db needs no escaping and is copied in one go, scanned over
        // its contiguous UTF-8 (a closure over `utf8` was a tenth of the reload profile).
        let copied = value.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            for byte in utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
            self.bytes.append(contentsOf: utf8)
            return true
        }
        if copied == true {
            self.bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): self.raw("\\\"")
            case UInt8(ascii: "\\"): self.raw("\\\\")
            case 0x0A: self.raw("\\n")
            case 0x0D: self.raw("\\r")
            case 0x09: self.raw("\\t")
            case 0x08: self.raw("\\b")
            case 0x0C: self.raw("\\f")
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                self.raw("\\u00")
                self.bytes.append(hex[Int(byte >> 4)])
                self.bytes.append(hex[Int(byte & 0x0F)])
            default:
                self.bytes.append(byte)
            }
        }
        self.bytes.append(UInt8(ascii: "\""))
    }
}
