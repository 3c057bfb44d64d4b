import Crypto

/// A db file cut into content-defined segments (``SegmentBoundaries``), each named by its SHA-256.
///
/// Computed once per reload, before the file is checked: the segments whose digest the previous file
/// had are bytes already checked and packed (see ``SnapshotCarryover``), and the same segments are what
/// ``SegmentedGzip`` compresses or copies after the swap.
struct DatabaseSegments: Sendable {
    /// End offset of each segment; the last one is the file's length.
    let ends: [Int]
    /// SHA-256 of each segment's bytes.
    let digests: [SegmentDigest]

    init(of bytes: UnsafeRawBufferPointer) {
        let ends = SegmentBoundaries.ends(of: bytes)
        var digests: [SegmentDigest] = []
        digests.reserveCapacity(ends.count)
        var start = 0
        for end in ends {
            digests.append(SegmentDigest(of: UnsafeRawBufferPointer(rebasing: bytes[start..<end])))
            start = end
        }
        self.ends = ends
        self.digests = digests
    }

    var count: Int { self.ends.count }

    /// Length of the bytes that were cut.
    var length: Int { self.ends.last ?? 0 }

    /// Where segment `index` starts.
    func start(of index: Int) -> Int {
        index == 0 ? 0 : self.ends[index - 1]
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
