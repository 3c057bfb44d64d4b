import CompressNIO
import NIOCore
import ReleaseChannelModel
import ReleaseChannelTestSupport
import Testing

@testable import ReleaseChannelStore

/// A reload takes over from the served snapshot the releases and blocks of the segments that did not
/// change (``SnapshotCarryover``): what it then serves must be exactly what a snapshot built from the
/// file alone serves.
@Suite struct SnapshotCarryoverTests {
    /// Loads `bytes` from a real file as the reload does, taking over from `previous`, and builds the
    /// snapshot with arenas of `chunkSize`.
    func reload(_ bytes: [UInt8], at path: String, replacing previous: Snapshot?, chunkSize: Int) throws -> (Snapshot, DatabaseFile.IndexedContents) {
        try Fixtures.write(bytes, to: path)
        guard case .indexed(let contents) = try DatabaseFile(path: path).load(unlessFileDigestIs: nil, carryingOver: previous) else {
            throw TestFailure("a canonical file was not indexed")
        }
        let snapshot = SnapshotBuilder.build(
            IndexedReleases(index: contents.index, canonical: contents.canonical),
            canonical: contents.canonical,
            revision: contents.revision,
            loadedAt: 0,
            replacing: previous,
            segments: contents.segments,
            indexed: SnapshotBuilder.Indexed(index: contents.index, origins: contents.origins, carriedFrom: contents.carriedFrom),
            chunkSize: chunkSize
        )
        return (snapshot, contents)
    }

    /// Every response the two snapshots can give, compared: bodies, records, the whole db and its gzip form.
    func expectSameService(_ carried: Snapshot, _ fresh: Snapshot, _ database: ReleaseDatabase) throws {
        #expect(carried.revision == fresh.revision)
        #expect(carried.releaseCount == fresh.releaseCount && carried.containerCount == fresh.containerCount)
        #expect(carried.channelsBody.identity == fresh.channelsBody.identity)
        #expect(carried.wholeDatabase.heldIdentity == fresh.wholeDatabase.heldIdentity)
        for container in Set(database.releases.map(\.container)) {
            let entry = try #require(carried.container(container), "\(container)")
            let reference = try #require(fresh.container(container))
            #expect(entry.body.identity == reference.body.identity, "\(container)")
            #expect(entry.body.gzip == reference.body.gzip, "\(container)")
            for channel in database.channels {
                #expect(carried.release(container: container, channel: channel)?.body == fresh.release(container: container, channel: channel)?.body)
                #expect(carried.fastPathBody(container: container, channel: channel) == fresh.fastPathBody(container: container, channel: channel))
                var key = ByteBuffer()
                key.writeInteger(UInt16(container.utf8.count))
                key.writeString(container)
                key.writeInteger(UInt16(channel.utf8.count))
                key.writeString(channel)
                #expect(carried.record(forKey: key) == fresh.record(forKey: key), "\(container) \(channel)")
            }
        }
        // The gzip form, compressed from the segments the load cut and the previous form's, is the
        // form compressed from scratch.
        try carried.compressWholeDatabase()
        try fresh.compressWholeDatabase()
        var gzip = try #require(carried.wholeDatabase.gzip?.buffer())
        #expect(gzip == fresh.wholeDatabase.gzip?.buffer())
        #expect(try gzip.decompress(with: .gzip(), maxSize: 64 << 20).readableBytesView.elementsEqual(CanonicalEncoder.encode(database)))
    }

    /// A chain of reloads, each from the snapshot before: an image changed in the middle, then a
    /// container added near the start and a release removed near the end, then that release back (a
    /// container whose old releases are unchanged but which has one more after them).
    @Test(arguments: [4096, SnapshotBuilder.chunkSize]) func eachReloadServesWhatItsFileAloneServes(chunkSize: Int) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        let original = DatabaseGenerator(containers: 1_000, seed: 11).generate()
        var databases = [original]
        var releases = original.releases
        releases[releases.count / 2].image += "-hotfix"
        databases.append(ReleaseDatabase(channels: original.channels, releases: releases))
        releases.append(Release(container: "aaa-first", channel: "dev", image: "aaa:1", updatedAt: "2026-11-29T00:00:00Z"))
        let removed = releases.remove(at: releases.count - 2)
        #expect(removed.channel == original.channels.last)
        databases.append(ReleaseDatabase(channels: original.channels, releases: releases))
        releases.append(removed)
        databases.append(ReleaseDatabase(channels: original.channels, releases: releases))

        var previous: Snapshot?
        for (step, database) in databases.enumerated() {
            let bytes = CanonicalEncoder.encode(database)
            let (snapshot, contents) = try self.reload(bytes, at: path, replacing: previous, chunkSize: chunkSize)
            let (fresh, _) = try self.reload(bytes, at: path, replacing: nil, chunkSize: chunkSize)
            try self.expectSameService(snapshot, fresh, database)
            let carryover = try #require(snapshot.carryover)
            if step == 0 {
                #expect(contents.origins == nil && carryover.copiedContainers == 0)
            } else {
                // Most releases lie in unchanged segments: taken over, their containers copied; the
                // edited ones are not.
                let taken = contents.origins?.filter { $0 >= 0 }.count ?? 0
                #expect(taken > database.releases.count / 2 && taken < database.releases.count, "step \(step): \(taken)")
                #expect(carryover.copiedContainers > snapshot.containerCount / 2, "step \(step)")
                #expect(carryover.copiedContainers < snapshot.containerCount, "step \(step)")
            }
            previous = snapshot
        }
        #expect(previous?.release(container: removed.container, channel: removed.channel)?.body != nil)
    }

    /// Blocks are copied only from the snapshot whose carryover the load used: built replacing another
    /// snapshot, the same contents are packed anew, and serve the same.
    @Test func blocksAreCopiedOnlyFromTheSnapshotTheLoadTookFrom() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        let database = DatabaseGenerator(containers: 600, seed: 12).generate()
        var edited = database.releases
        edited[0].image += "-2"
        let next = ReleaseDatabase(channels: database.channels, releases: edited)
        let (first, _) = try self.reload(CanonicalEncoder.encode(database), at: path, replacing: nil, chunkSize: SnapshotBuilder.chunkSize)
        let (other, _) = try self.reload(CanonicalEncoder.encode(database), at: path, replacing: nil, chunkSize: SnapshotBuilder.chunkSize)
        try Fixtures.write(CanonicalEncoder.encode(next), to: path)
        // Until its gzip form is computed, a snapshot cannot say where its file's segments were.
        guard case .indexed(let early) = try DatabaseFile(path: path).load(unlessFileDigestIs: nil, carryingOver: first) else {
            throw TestFailure("not indexed")
        }
        #expect(early.origins == nil && early.carriedFrom == nil)
        try first.compressWholeDatabase()
        guard case .indexed(let contents) = try DatabaseFile(path: path).load(unlessFileDigestIs: nil, carryingOver: first) else {
            throw TestFailure("not indexed")
        }
        #expect(contents.carriedFrom === first.carryover)
        let built = SnapshotBuilder.build(contents, loadedAt: 0, replacing: other)
        #expect(built.carryover?.copiedContainers == 0)
        let (fresh, _) = try self.reload(CanonicalEncoder.encode(next), at: path, replacing: nil, chunkSize: SnapshotBuilder.chunkSize)
        try self.expectSameService(built, fresh, next)
        let copying = SnapshotBuilder.build(contents, loadedAt: 0, replacing: first)
        #expect((copying.carryover?.copiedContainers ?? 0) > 0)
        let (again, _) = try self.reload(CanonicalEncoder.encode(next), at: path, replacing: nil, chunkSize: SnapshotBuilder.chunkSize)
        try self.expectSameService(copying, again, next)
    }

    /// A container whose releases are all unchanged but which has one more after them (here found by
    /// the files' common prefix, finer than segments): its old block lacks that release, so it is packed.
    @Test func aContainerWithOneMoreReleaseAfterItsOwnIsPackedAgain() throws {
        let database = DatabaseGenerator(containers: 300, seed: 13).generate()
        let last = try #require(database.releases.last)
        var releases = database.releases
        releases.removeLast()
        let before = CanonicalEncoder.encode(ReleaseDatabase(channels: database.channels, releases: releases))
        let after = CanonicalEncoder.encode(database)
        let previous = try self.build(before, replacing: nil, origins: nil)
        let carryover = IndexCarryover(previous: try #require(previous.carryover).index, unchanged: Fixtures.unchangedRanges(from: before, to: after))
        let carried = try #require(after.withUnsafeBufferPointer { DatabaseDecoder.indexCanonical($0, carryingOver: carryover) })
        // Every release but the added one was taken over, the last container's others included.
        #expect(carried.origins.filter { $0 < 0 }.count == 1)
        let snapshot = try self.build(after, replacing: previous, origins: carried.origins)
        #expect(snapshot.carryover?.copiedContainers == snapshot.containerCount - 1)
        let fresh = try self.build(after, replacing: nil, origins: nil)
        try self.expectSameService(snapshot, fresh, database)
        #expect(snapshot.release(container: last.container, channel: last.channel)?.body != nil)
    }

    /// Builds the snapshot of canonical `bytes` as the reload does, with the given origins in
    /// `previous`'s carryover.
    func build(_ bytes: [UInt8], replacing previous: Snapshot?, origins: [Int32]?) throws -> Snapshot {
        let index = try #require(bytes.withUnsafeBufferPointer { DatabaseDecoder.indexCanonical($0) })
        let buffer = ByteBuffer(bytes: bytes)
        return SnapshotBuilder.build(
            IndexedReleases(index: index, canonical: buffer),
            canonical: buffer,
            loadedAt: 0,
            replacing: previous,
            segments: buffer.withUnsafeReadableBytes { DatabaseSegments(of: $0) },
            indexed: SnapshotBuilder.Indexed(index: index, origins: origins, carriedFrom: previous?.carryover)
        )
    }

    /// Before the swap, the segments within the prefix the new file shares with the served one (told by
    /// the prefix digests noted while hashing the file) are neither cut nor hashed again: a change to
    /// the last release leaves only the last segments to cut and hash.
    @Test func theSharedPrefixIsNotHashedAgain() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        let database = DatabaseGenerator(containers: 1_000, seed: 14).generate()
        let bytes = CanonicalEncoder.encode(database)
        let (served, _) = try self.reload(bytes, at: path, replacing: nil, chunkSize: SnapshotBuilder.chunkSize)
        try served.compressWholeDatabase()
        let index = try #require(bytes.withUnsafeBufferPointer { DatabaseDecoder.indexCanonical($0) })
        var releases = database.releases
        let last = try #require(releases.firstIndex { $0.container == String(decoding: bytes[index.containerName(of: index.count - 1)], as: UTF8.self) && $0.channel == index.channels[index.channel(of: index.count - 1)] })
        releases[last].image += "-hotfix"
        let next = ReleaseDatabase(channels: database.channels, releases: releases)
        let nextBytes = CanonicalEncoder.encode(next)
        let (snapshot, contents) = try self.reload(nextBytes, at: path, replacing: served, chunkSize: SnapshotBuilder.chunkSize)
        #expect(contents.segments.count > 10)
        #expect(contents.segments.hashedCount <= 2, "\(contents.segments.hashedCount) of \(contents.segments.count)")
        // The served file's cuts, taken for the shared prefix, are the cuts of the file cut alone.
        #expect(contents.segments.ends == nextBytes.withUnsafeBytes { SegmentBoundaries.ends(of: $0) })
        #expect((contents.origins?.filter { $0 >= 0 }.count ?? 0) > releases.count / 2)
        let (fresh, _) = try self.reload(CanonicalEncoder.encode(next), at: path, replacing: nil, chunkSize: SnapshotBuilder.chunkSize)
        #expect(fresh.carryover?.copiedContainers == 0)
        try self.expectSameService(snapshot, fresh, next)
    }
}
