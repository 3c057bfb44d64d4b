import CZlib
public import NIOCore
import ReleaseChannelModel

/// The gzip form of the whole db, compressed in content-defined segments so that the next reload
/// recompresses only the segments whose bytes changed: a GitOps commit changes one release, and
/// compressing a large db from scratch costs more CPU than the rest of its reload.
///
/// Each segment is raw DEFLATE ending at a sync flush, compressed with the 32 KiB before it as preset
/// dictionary, so the segments concatenate into one DEFLATE stream that compresses within a fraction of
/// a percent of a single pass (pigz uses the same construction to compress in parallel). A final empty
/// block, the CRC-32 (combined from the segments' CRCs) and the length close the one gzip member
/// (RFC 1952); any gzip decoder reads it. The stream is written to a ``ScratchFile`` as it is
/// produced, so it is never held twice.
public struct SegmentedGzip: Sendable {
    /// The gzip stream: header, DEFLATE data, CRC-32 and length.
    public let file: ScratchFile
    /// How many segments the input had, and how many of them were copied from the previous form.
    public let segmentCount: Int
    public let reusedSegmentCount: Int
    private let segments: [Key: Segment]
    /// Where each segment was in the input, by digest, and the set of segment lengths (a segment of
    /// another input can only be one of these if its length is one of them: see ``unchangedRanges(of:in:)``).
    private let inputRanges: [SegmentDigest: Range<Int>]
    private let inputLengths: Set<Int>
    /// The input's segments, every digest known, and the digests of its prefixes when noted.
    let inputSegments: DatabaseSegments

    /// A segment's compressed bytes depend on its own bytes and on its dictionary, which lies within the
    /// segment before it (every segment but the last is at least 32 KiB), so both digests name them.
    private struct Key: Hashable, Sendable {
        var previous: SegmentDigest?
        var digest: SegmentDigest
    }

    private struct Segment: Sendable {
        var crc: UInt32
        /// Where its DEFLATE bytes are in ``file``.
        var deflated: Range<Int>
    }

    /// `1f 8b`, DEFLATE, no flags, no mtime (the bytes depend on the content only), no extra flags, Unix.
    private static let header: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]
    /// A final fixed-Huffman block holding only the end-of-block code: ends the DEFLATE stream after the
    /// last segment's sync flush.
    private static let finalEmptyBlock: [UInt8] = [0x03, 0x00]

    /// Compresses `input`, copying the segments that `previous` already holds.
    /// - Parameter directory: Where the ``ScratchFile`` goes (nil: in memory). When writing there fails
    ///   (the file system is full, say), the form is written to memory instead.
    public static func compress(
        _ input: ByteBuffer,
        reusing previous: SegmentedGzip? = nil,
        directory: String? = ScratchFile.Writer.defaultDirectory
    ) throws(CompressionError) -> SegmentedGzip {
        try Self.compress(input, segments: nil, reusing: previous, directory: directory)
    }

    /// As ``compress(_:reusing:directory:)``, with `input`'s segments when the reload already cut it.
    static func compress(
        _ input: ByteBuffer,
        segments: DatabaseSegments?,
        reusing previous: SegmentedGzip? = nil,
        directory: String? = ScratchFile.Writer.defaultDirectory
    ) throws(CompressionError) -> SegmentedGzip {
        do {
            return try Self.compress(input, segments: segments, reusing: previous, into: directory)
        } catch where error.isSystemCall && directory != nil {
            return try Self.compress(input, segments: segments, reusing: previous, into: nil)
        }
    }

    private static func compress(
        _ input: ByteBuffer,
        segments: DatabaseSegments?,
        reusing previous: SegmentedGzip?,
        into directory: String?
    ) throws(CompressionError) -> SegmentedGzip {
        do {
            return try input.withUnsafeReadableBytes { bytes in
                // Segments cut from other bytes (which no caller passes) would be cut again.
                let cuts = segments.flatMap { $0.length == bytes.count ? $0 : nil } ?? DatabaseSegments(of: bytes)
                return try Self.compress(bytes, segments: cuts, reusing: previous, into: directory)
            }
        } catch let error as CompressionError {
            throw error
        } catch {
            throw CompressionError(operation: "compress", code: 0)
        }
    }

    private static func compress(
        _ input: UnsafeRawBufferPointer,
        segments cuts: DatabaseSegments,
        reusing previous: SegmentedGzip?,
        into directory: String?
    ) throws(CompressionError) -> SegmentedGzip {
        var file = try ScratchFile.Writer(name: "release-chan-db.json.gz", directory: directory)
        // Written to the file every `flushSize` bytes; offsets below are in the whole stream.
        var output = ByteBuffer()
        output.reserveCapacity(Self.flushSize + 512 * 1024)
        output.writeBytes(Self.header)
        var deflater: RawDeflater?
        var cuts = cuts
        var segments: [Key: Segment] = [:]
        var inputRanges: [SegmentDigest: Range<Int>] = [:]
        var crc: uLong = 0
        var reused = 0
        var start = 0
        var previousDigest: SegmentDigest?
        for (index, end) in cuts.ends.enumerated() {
            let segment = UnsafeRawBufferPointer(rebasing: input[start..<end])
            let key = Key(previous: previousDigest, digest: cuts.digest(of: index, in: input))
            if inputRanges[key.digest] == nil { inputRanges[key.digest] = start..<end }
            let offset = file.count + output.writerIndex
            let segmentCRC: uLong
            if let previous, let old = previous.segments[key] {
                previous.file.withUnsafeBytes { _ = output.writeBytes(UnsafeRawBufferPointer(rebasing: $0[old.deflated])) }
                segmentCRC = uLong(old.crc)
                reused += 1
            } else {
                if deflater == nil { deflater = try RawDeflater() }
                let dictionaryStart = max(start - 32 * 1024, 0)
                try deflater?.deflate(segment, dictionary: UnsafeRawBufferPointer(rebasing: input[dictionaryStart..<start]), into: &output)
                segmentCRC = crc32(0, segment.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(segment.count))
            }
            crc = crc32_combine(crc, segmentCRC, off_t(segment.count))
            segments[key] = Segment(crc: UInt32(truncatingIfNeeded: segmentCRC), deflated: offset..<(file.count + output.writerIndex))
            previousDigest = key.digest
            start = end
            if output.readableBytes >= Self.flushSize {
                try Self.flush(&output, to: &file)
            }
        }
        output.writeBytes(Self.finalEmptyBlock)
        output.writeInteger(UInt32(truncatingIfNeeded: crc), endianness: .little)
        // ISIZE is the length modulo 2^32 (RFC 1952).
        output.writeInteger(UInt32(truncatingIfNeeded: input.count), endianness: .little)
        try Self.flush(&output, to: &file)
        return SegmentedGzip(
            file: try file.finish(),
            segmentCount: cuts.count,
            reusedSegmentCount: reused,
            segments: segments,
            inputRanges: inputRanges,
            inputLengths: Set(inputRanges.values.map(\.count)),
            inputSegments: cuts
        )
    }

    /// The ranges of `bytes`, cut into `segments`, that hold this form's input unchanged: each segment
    /// that the input had (same length, then same digest), joined with its neighbours when they follow
    /// each other in the input too (so a release across two unchanged segments lies in one range).
    func unchangedRanges(of segments: inout DatabaseSegments, in bytes: UnsafeRawBufferPointer) -> [IndexCarryover.UnchangedRange] {
        var ranges: [IndexCarryover.UnchangedRange] = []
        for index in 0..<segments.count {
            let range = segments.range(of: index)
            guard self.inputLengths.contains(range.count), let old = self.inputRanges[segments.digest(of: index, in: bytes)] else { continue }
            if let last = ranges.last, last.end == range.lowerBound, last.previousStart + (range.lowerBound - last.start) == old.lowerBound {
                ranges[ranges.count - 1].end = range.upperBound
            } else {
                ranges.append(IndexCarryover.UnchangedRange(start: range.lowerBound, end: range.upperBound, previousStart: old.lowerBound))
            }
        }
        return ranges
    }

    /// How much compressed output is gathered before it is written to the file.
    private static let flushSize = 256 * 1024

    private static func flush(_ output: inout ByteBuffer, to file: inout ScratchFile.Writer) throws(CompressionError) {
        try output.withUnsafeReadableBytes { bytes in Result { () throws(CompressionError) in try file.append(bytes) } }.get()
        output.clear()
    }
}
