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

    /// ``fileDigest(of:)-(UnsafeRawBufferPointer)``, noting on the way the SHA-256 of every prefix of
    /// `bytes` whose length is a multiple of `interval` (32 bytes each, shortest first): a reload
    /// compares them with those of the file it serves to see how far the two agree without hashing
    /// that part again.
    public static func fileDigest(of bytes: UnsafeRawBufferPointer, notingPrefixesEvery interval: Int) -> (digest: String, prefixes: [UInt8]) {
        let interval = max(interval, 64)
        var hasher = SHA256()
        var prefixes: [UInt8] = []
        prefixes.reserveCapacity(bytes.count / interval * 32)
        var offset = 0
        while offset + interval <= bytes.count {
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + interval)]))
            offset += interval
            // `finalize` works on a copy of the state: hashing goes on from where it was.
            prefixes.append(contentsOf: hasher.finalize())
        }
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[offset...]))
        return (Self.hex(hasher.finalize().prefix(32)), prefixes)
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
