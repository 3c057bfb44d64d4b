import CompressNIO
import Foundation
import NIOCore
import ReleaseChannelModel
import ReleaseChannelTestSupport
import Testing

@testable import ReleaseChannelStore

/// The whole db's gzip form: a valid gzip stream for any input, byte-identical whether segments were
/// copied from the previous form or compressed afresh, and copying all but the edited segments.
@Suite struct SegmentedGzipTests {
    static let generated = CanonicalEncoder.encode(DatabaseGenerator(containers: 2_000, seed: 7).generate())

    func inflate(_ gzip: SegmentedGzip) throws -> [UInt8] {
        var bytes = gzip.bytes
        let inflated = try bytes.decompress(with: .gzip(), maxSize: 64 << 20)
        return Array(inflated.readableBytesView)
    }

    @Test(arguments: [0, 1, 1_000, 32 << 10, (32 << 10) + 1, 300_000])
    func roundTrips(length: Int) throws {
        let input = Array(Self.generated.prefix(length))
        let gzip = try SegmentedGzip.compress(ByteBuffer(bytes: input))
        #expect(try self.inflate(gzip) == input)
        #expect(gzip.reusedSegmentCount == 0)
    }

    @Test func isOneGzipMemberThatGzipReads() throws {
        let input = Self.generated
        let gzip = try SegmentedGzip.compress(ByteBuffer(bytes: input))
        #expect(gzip.segmentCount > 5)
        // An independent decoder: the system gzip checks the CRC-32 and the length in the trailer.
        let directory = try TemporaryDirectory()
        let path = directory.path + "/db.json.gz"
        try Data(gzip.bytes.readableBytesView).write(to: URL(fileURLWithPath: path))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-dc", path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let inflated = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect([UInt8](inflated) == input)
    }

    @Test func compressesAboutAsWellAsOnePass() throws {
        var input = ByteBuffer(bytes: Self.generated)
        let segmented = try SegmentedGzip.compress(input)
        let onePass = try input.compress(with: .gzip())
        // The preset dictionaries keep the cost of cutting to the segments' flush markers.
        #expect(Double(segmented.bytes.readableBytes) < Double(onePass.readableBytes) * 1.01)
    }

    @Test func anEditRecompressesOnlyItsSegments() throws {
        let original = try SegmentedGzip.compress(ByteBuffer(bytes: Self.generated))
        var edited = Self.generated
        // Same length, in the middle; then a longer value near the start, which shifts every later byte.
        let middle = edited.count / 2
        edited[middle] = edited[middle] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
        edited.insert(contentsOf: Array("-longer".utf8), at: 70_000)

        let reused = try SegmentedGzip.compress(ByteBuffer(bytes: edited), reusing: original)
        let fresh = try SegmentedGzip.compress(ByteBuffer(bytes: edited))
        #expect(try self.inflate(reused) == edited)
        #expect(reused.bytes == fresh.bytes)
        // Each edit changes its segment and the dictionary of the next one; a shift may move one cut.
        #expect(reused.reusedSegmentCount >= reused.segmentCount - 6)
        #expect(reused.reusedSegmentCount > 0)
    }

    @Test func aReloadCopiesThePreviousSnapshotsSegments() throws {
        let generator = DatabaseGenerator(containers: 2_000, seed: 7)
        let first = generator.generate()
        let firstSnapshot = SnapshotBuilder.build(database: first, canonicalBytes: CanonicalEncoder.encode(first), loadedAt: 0)
        #expect(try firstSnapshot.compressWholeDatabase() != nil)
        // A second call finds the form there.
        #expect(try firstSnapshot.compressWholeDatabase() == nil)

        var releases = first.releases
        releases[1_000].image = releases[1_000].image + "-hotfix"
        let second = ReleaseDatabase(channels: first.channels, releases: releases)
        let secondSnapshot = SnapshotBuilder.build(
            database: second,
            canonicalBytes: CanonicalEncoder.encode(second),
            loadedAt: 1,
            replacing: firstSnapshot
        )
        let gzip = try #require(try secondSnapshot.compressWholeDatabase())
        #expect(gzip.reusedSegmentCount >= gzip.segmentCount - 3)
        var served = try #require(secondSnapshot.wholeDatabase.gzip)
        let inflated = try served.decompress(with: .gzip(), maxSize: 64 << 20)
        #expect(Array(inflated.readableBytesView) == CanonicalEncoder.encode(second))
    }
}
