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
        var bytes = gzip.file.buffer()
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
        try Data(gzip.file.buffer().readableBytesView).write(to: URL(fileURLWithPath: path))
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
        #expect(Double(segmented.file.count) < Double(onePass.readableBytes) * 1.01)
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
        #expect(reused.file.buffer() == fresh.file.buffer())
        // Each edit changes its segment and the dictionary of the next one; a shift may move one cut.
        #expect(reused.reusedSegmentCount >= reused.segmentCount - 6)
        #expect(reused.reusedSegmentCount > 0)
    }

    /// Cutting a file that shares a prefix with a served one takes the served cuts and digests within
    /// that prefix: the result is the file's own cuts, whatever the edit (after the prefix, appended to
    /// the end, or a served file that is all prefix of the new one, ending on a noted prefix or not),
    /// and the taken digests are right.
    @Test func cutsWithASharedPrefixAreTheFilesOwnCuts() {
        let interval = DatabaseSegments.prefixInterval
        let served = Self.generated
        var inMiddle = served
        inMiddle.insert(contentsOf: Array("-longer".utf8), at: served.count / 2)
        let spaces = Array(repeating: UInt8(ascii: " "), count: 70_000)
        // A served file whose end is a noted prefix: its last segment ends there, not at a cut.
        let aligned = Array(served.prefix(20 * interval))
        let cases: [(served: [UInt8], edited: [UInt8], wholePrefix: Bool)] = [
            (served, inMiddle, false), (served, served + spaces, true), (served, Array(served.prefix(served.count - 100_000)), false),
            (served, served, true), (aligned, aligned + spaces, true),
        ]
        for (served, edited, wholePrefix) in cases {
            let servedPrefixes = served.withUnsafeBytes { DatabaseRevision.fileDigest(of: $0, notingPrefixesEvery: interval).prefixes }
            var servedSegments = served.withUnsafeBytes { DatabaseSegments(of: $0, prefixes: servedPrefixes) }
            served.withUnsafeBytes { bytes in
                for index in 0..<servedSegments.count { _ = servedSegments.digest(of: index, in: bytes) }
            }
            edited.withUnsafeBytes { bytes in
                let prefixes = DatabaseRevision.fileDigest(of: bytes, notingPrefixesEvery: interval).prefixes
                var shared = DatabaseSegments(of: bytes, prefixes: prefixes, sharingWith: servedSegments)
                let alone = DatabaseSegments(of: bytes)
                #expect(shared.ends == alone.ends, "\(edited.count) after \(served.count)")
                for index in 0..<shared.count {
                    #expect(shared.digest(of: index, in: bytes) == SegmentDigest(of: UnsafeRawBufferPointer(rebasing: bytes[alone.range(of: index)])))
                }
                // The segments of the shared prefix were taken, not hashed (the loop above hashed the rest).
                #expect(shared.hashedCount < shared.count)
                if wholePrefix { #expect(shared.hashedCount <= 3, "\(shared.hashedCount) of \(shared.count)") }
            }
        }
    }

    /// The form lives in an in-memory file: HTTP sends it from a descriptor of its own, which stays
    /// readable after the snapshot (and its file object) are gone.
    /// Where the form's file is: an unnamed file in the directory (a disk file system's page cache, which
    /// sendfile reads faster), or in memory when there is no directory or it cannot hold one.
    @Test func theFormIsAFileInTheDirectoryOrInMemory() throws {
        let directory = try TemporaryDirectory()
        func target(_ gzip: SegmentedGzip) throws -> String {
            let handle = try gzip.file.makeFileHandle()
            defer { try? handle.close() }
            return try handle.withUnsafeFileDescriptor { descriptor in
                try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(descriptor)")
            }
        }
        let input = ByteBuffer(bytes: Self.generated)
        let onDisk = try SegmentedGzip.compress(input, directory: directory.path)
        // Whether this machine's temporary directory can hold an unnamed file at all (overlay file
        // systems of older kernels cannot): where it cannot, the form must be in memory instead.
        let probe = open(directory.path, __O_TMPFILE | O_DIRECTORY | O_RDWR, 0o600)  // O_TMPFILE, a macro Swift does not import
        if probe >= 0 {
            close(probe)
            #expect(!onDisk.file.isInMemory)
            #expect(try target(onDisk).hasPrefix(directory.path + "/"))
        } else {
            #expect(onDisk.file.isInMemory)
        }
        #expect(try self.inflate(onDisk) == Self.generated)
        for place in [nil, directory.path + "/missing"] {
            let inMemory = try SegmentedGzip.compress(input, directory: place)
            #expect(inMemory.file.isInMemory)
            #expect(try target(inMemory).hasPrefix("/memfd:release-chan-db.json.gz"))
            #expect(try self.inflate(inMemory) == Self.generated)
        }
        // Nothing is left behind in the directory: the file has no name.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test func theFormIsReadableFromADescriptorThatOutlivesIt() throws {
        var gzip: SegmentedGzip? = try SegmentedGzip.compress(ByteBuffer(bytes: Self.generated))
        let expected = try #require(gzip?.file.buffer())
        let handle = try #require(try gzip?.file.makeFileHandle())
        defer { try? handle.close() }
        gzip = nil
        let read = try handle.withUnsafeFileDescriptor { descriptor in
            var bytes = [UInt8](repeating: 0, count: expected.readableBytes + 1)
            var total = 0
            while total < bytes.count {
                let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + total, $0.count - total, off_t(total)) }
                guard count > 0 else { break }
                total += count
            }
            return Array(bytes.prefix(total))
        }
        #expect(read == Array(expected.readableBytesView))
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
        var served = try #require(secondSnapshot.wholeDatabase.gzip?.buffer())
        let inflated = try served.decompress(with: .gzip(), maxSize: 64 << 20)
        #expect(Array(inflated.readableBytesView) == CanonicalEncoder.encode(second))
    }
}
