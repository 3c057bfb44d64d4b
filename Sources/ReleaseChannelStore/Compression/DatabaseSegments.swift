import Crypto

/// A db file cut into content-defined segments (``SegmentBoundaries``), each named by its SHA-256 once
/// something needs the name.
///
/// A reload cuts the file before checking it: a segment the served file had (same length, then same
/// digest) holds bytes already checked and packed (see ``SnapshotCarryover``). Only segments whose
/// length the served file had are hashed then, so a file with nothing in common costs no hashing
/// before the swap; ``SegmentedGzip`` hashes the rest while it compresses the file after the swap.
struct DatabaseSegments: Sendable {
    /// End offset of each segment; the last one is the file's length.
    let ends: [Int]
    /// SHA-256 of each segment's bytes, where computed or known.
    private var digests: [SegmentDigest?]
    /// The SHA-256 of every ``prefixInterval``-multiple prefix of the file, 32 bytes each, when the
    /// load noted them while hashing the file (`DatabaseRevision.fileDigest(of:notingPrefixesEvery:)`).
    let prefixes: [UInt8]
    /// How many segment digests were computed (not known from elsewhere).
    private(set) var hashedCount = 0

    /// How far apart the noted prefixes are.
    static let prefixInterval = 64 << 10

    init(of bytes: UnsafeRawBufferPointer, prefixes: [UInt8] = []) {
        self.ends = SegmentBoundaries.ends(of: bytes)
        self.digests = Array(repeating: nil, count: self.ends.count)
        self.prefixes = prefixes
    }

    var count: Int { self.ends.count }

    /// Length of the bytes that were cut.
    var length: Int { self.ends.last ?? 0 }

    /// Where segment `index` starts.
    func start(of index: Int) -> Int {
        index == 0 ? 0 : self.ends[index - 1]
    }

    /// The bytes of segment `index` within `bytes`, the bytes that were cut.
    func range(of index: Int) -> Range<Int> {
        self.start(of: index)..<self.ends[index]
    }

    /// The digest of segment `index`, computed from `bytes` (the bytes that were cut) the first time.
    mutating func digest(of index: Int, in bytes: UnsafeRawBufferPointer) -> SegmentDigest {
        if let digest = self.digests[index] { return digest }
        let digest = SegmentDigest(of: UnsafeRawBufferPointer(rebasing: bytes[self.range(of: index)]))
        self.digests[index] = digest
        self.hashedCount += 1
        return digest
    }

    /// The digest of segment `index` if it was computed or recorded.
    func knownDigest(of index: Int) -> SegmentDigest? {
        self.digests[index]
    }

    /// Records the digest of segment `index` when it is known without hashing (its bytes are those of
    /// a segment whose digest is known).
    mutating func setDigest(_ digest: SegmentDigest, of index: Int) {
        self.digests[index] = digest
    }

    /// Length of the longest noted prefix that these bytes share with those `other` was cut from.
    func commonPrefixLength(with other: DatabaseSegments) -> Int {
        var count = 0
        let limit = min(self.prefixes.count, other.prefixes.count) / 32
        while count < limit, self.prefixes[(32 * count)..<(32 * count + 32)] == other.prefixes[(32 * count)..<(32 * count + 32)] {
            count += 1
        }
        return count * Self.prefixInterval
    }
}

/// A segment's SHA-256 (swift-crypto's digest type is not `Sendable`).
struct SegmentDigest: Hashable, Sendable {
    var words: (UInt64, UInt64, UInt64, UInt64)

    init(of bytes: UnsafeRawBufferPointer) {
        self.words = SHA256.hash(data: bytes).withUnsafeBytes { digest in
            (
                digest.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                digest.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                digest.loadUnaligned(fromByteOffset: 16, as: UInt64.self),
                digest.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
            )
        }
    }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.words == rhs.words }

    func hash(into hasher: inout Hasher) {
        hasher.combine(self.words.0)
        hasher.combine(self.words.1)
        hasher.combine(self.words.2)
        hasher.combine(self.words.3)
    }
}
