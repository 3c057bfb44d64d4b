import Crypto

/// A db file cut into content-defined segments (``SegmentBoundaries``), each named by its SHA-256 once
/// something needs the name.
///
/// A reload cuts the file before checking it: a segment the served file had (same length, then same
/// digest) holds bytes already checked and packed (see ``SnapshotCarryover``). Within the prefix the
/// file shares with the served one, the served file's cuts and digests are taken as they are; after
/// it, only segments whose length the served file had are hashed then, so a file with nothing in
/// common costs no hashing before the swap. ``SegmentedGzip`` hashes the rest while it compresses the
/// file after the swap.
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

    /// Cuts `bytes`, whose noted `prefixes` may show a prefix shared with the bytes `served` was cut
    /// from: the segments within that prefix are `served`'s own, cut at the same places and with the
    /// same digests, so neither their cuts nor their digests are computed again.
    init(of bytes: UnsafeRawBufferPointer, prefixes: [UInt8], sharingWith served: DatabaseSegments) {
        self.prefixes = prefixes
        let shared = Self.sharedPrefixLength(prefixes, served.prefixes)
        // Not the served file's last segment: it ended where that file did, not at a cut.
        var known = 0
        while known < served.count - 1, served.ends[known] <= shared { known += 1 }
        self.ends = SegmentBoundaries.ends(of: bytes, after: Array(served.ends[..<known]))
        self.digests = Array(served.digests[..<known]) + Array(repeating: nil, count: self.ends.count - known)
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

    /// Length of the longest prefix two files share, from their noted prefix digests.
    private static func sharedPrefixLength(_ one: [UInt8], _ other: [UInt8]) -> Int {
        var count = 0
        let limit = min(one.count, other.count) / 32
        while count < limit, one[(32 * count)..<(32 * count + 32)] == other[(32 * count)..<(32 * count + 32)] {
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
