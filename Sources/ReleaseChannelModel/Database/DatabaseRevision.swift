import Crypto

/// Names the content of a db: the first 16 hex digits of SHA-256 over its canonical encoding, so the
/// same releases give the same revision however the file was formatted.
public enum DatabaseRevision {
    public static func of(canonicalBytes: some Collection<UInt8>) -> String {
        let digest = SHA256.hash(data: Array(canonicalBytes))
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(16)
        for byte in digest.prefix(8) {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
