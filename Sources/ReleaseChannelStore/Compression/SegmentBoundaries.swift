import ReleaseChannelModel

/// Content-defined cut points for ``SegmentedGzip``: a gear rolling hash (as in FastCDC) decides where a
/// segment ends from the bytes just before the cut, so an edit changes the segment it falls in (and at
/// most moves the next cut) while every later segment keeps its bytes and is found again by digest.
enum SegmentBoundaries {
    /// No cut is looked for before this many bytes: it bounds the number of segments and is the size of
    /// the preset dictionary a segment needs (DEFLATE's 32 KiB window).
    static let minimumLength = 32 << 10
    static let maximumLength = 256 << 10
    /// Cut where the top 16 bits of the hash are zero: on average 64 KiB past the minimum. Bit k of a
    /// gear hash depends on the last k + 1 bytes, so the top bits cover a 64-byte window.
    static let mask: UInt64 = 0xFFFF << 48

    /// One random word per byte value (SplitMix64 from a fixed seed: cuts must not change between runs,
    /// or a restarted server would find nothing to reuse; they only affect speed, never the output).
    static let gear: [UInt64] = {
        var random = SplitMix64(seed: 0x5EED_C0DE_1234_5678)
        return (0..<256).map { _ in random.next() }
    }()

    /// End offsets of the segments of `bytes`, in order; the last one is `bytes.count`. Every segment
    /// but the last is at least ``minimumLength`` long and none is longer than ``maximumLength``.
    static func ends(of bytes: UnsafeRawBufferPointer) -> [Int] {
        Self.ends(of: bytes, after: [])
    }

    /// As ``ends(of:)``, given its first ends: the cuts of bytes that begin with the bytes an earlier
    /// call cut, up to the last of `known` (a cut depends only on the bytes before it, so those are
    /// the same cuts).
    static func ends(of bytes: UnsafeRawBufferPointer, after known: [Int]) -> [Int] {
        var ends = known
        ends.reserveCapacity(bytes.count / (Self.minimumLength + (1 << 16)) + 1)
        var start = known.last ?? 0
        Self.gear.withUnsafeBufferPointer { gear in
            while start < bytes.count {
                let limit = min(bytes.count, start + Self.maximumLength)
                var end = limit
                var index = start + Self.minimumLength
                var hash: UInt64 = 0
                while index < limit {
                    hash = (hash << 1) &+ gear[Int(bytes[index])]
                    if hash & Self.mask == 0 {
                        end = index + 1
                        break
                    }
                    index += 1
                }
                ends.append(end)
                start = end
            }
        }
        return ends
    }
}
