import Crypto

/// Names the content of a db: the first 16 hex digits of SHA-256 over its canonical encoding, so the
/// same releases give the same revision however the file was formatted.
public enum DatabaseRevision {
    public static func of(canonicalBytes: some Collection<UInt8>) -> String {
        Self.hex(SHA256.hash(data: Array(canonicalBytes)).prefix(8))
    }

    /// The revision of a file whose bytes are canonical, from its ``fileDigest(of:)``: the same SHA-256,
    /// so a reload of a canonical file hashes it once.
    public static func of(canonicalFileDigest digest: String) -> String {
        String(digest.prefix(16))
    }

    /// SHA-256 of a file's bytes as they are (not canonicalized), in hex: a reload compares it with the
    /// file it loaded last to skip parsing a file that did not change.
    public static func fileDigest(of bytes: [UInt8]) -> String {
        Self.hex(SHA256.hash(data: bytes).prefix(32))
    }

    /// ``fileDigest(of:)`` over bytes in place.
    public static func fileDigest(of bytes: UnsafeRawBufferPointer) -> String {
        Self.hex(SHA256.hash(data: bytes).prefix(32))
    }

    private static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
