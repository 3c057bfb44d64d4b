import ReleaseChannelTestSupport
import CompressNIO
import Foundation
import NIOCore
import ReleaseChannelModel
import Testing

@testable import ReleaseChannelStore

@Suite struct SnapshotBuilderTests {
    func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] ?? [:]
    }

    @Test func precomputesEveryBody() throws {
        let database = Fixtures.database(containers: 3)
        let canonical = CanonicalEncoder.encode(database)
        let snapshot = SnapshotBuilder.build(database: database, canonicalBytes: canonical, loadedAt: 1000)
        #expect(snapshot.revision == DatabaseRevision.of(canonicalBytes: canonical))
        #expect(snapshot.wholeDatabase.heldIdentity.map { Array($0.readableBytesView) } == canonical)
        #expect(snapshot.wholeDatabase.identityLength == canonical.count)
        #expect(snapshot.releaseCount == 9)
        #expect(snapshot.containerCount == 3)

        let entry = try #require(snapshot.container("app-1"))
        let document = try self.json(entry.body.identity)
        #expect(document["revision"] as? String == snapshot.revision)
        #expect(document["container"] as? String == "app-1")
        let releases = try #require(document["releases"] as? [[String: Any]])
        #expect(releases.map { $0["channel"] as? String } == ["dev", "stage", "prod"])

        let prod = try #require(snapshot.release(container: "app-1", channel: "prod"))
        let object = try self.json(prod.body)
        #expect(object["image"] as? String == "ghcr.io/acme/app-1:v1-prod")
        #expect((object["source"] as? [String: Any])?["run_id"] as? Int == 2)
        #expect(snapshot.release(container: "app-1", channel: "qa") == nil)
        #expect(snapshot.container("nope") == nil)

        // The binary record of a release starts with its key, so a GET body finds it byte for byte.
        var key = ByteBuffer()
        key.writeInteger(UInt16(5))
        key.writeString("app-1")
        key.writeInteger(UInt16(4))
        key.writeString("prod")
        let record = try #require(snapshot.record(forKey: key))
        #expect(record == prod.record)
        #expect(record.readableBytesView.starts(with: key.readableBytesView))
        #expect(String(buffer: record).contains("ghcr.io/acme/app-1:v1-prod"))
        for missing in [("app-1", "qa"), ("app-11", "prod"), ("app-", "prod"), ("", "")] {
            var probe = ByteBuffer()
            probe.writeInteger(UInt16(missing.0.utf8.count))
            probe.writeString(missing.0)
            probe.writeInteger(UInt16(missing.1.utf8.count))
            probe.writeString(missing.1)
            #expect(snapshot.record(forKey: probe) == nil, "\(missing)")
        }
        // A key followed by more bytes (a malformed GET) is not a hit either.
        key.writeInteger(UInt8(0))
        #expect(snapshot.record(forKey: key) == nil)

        let channels = try self.json(snapshot.channelsBody.identity)
        #expect(channels["channels"] as? [String] == ["dev", "stage", "prod"])
    }

    @Test func bodiesSpanManyArenas() throws {
        // Arenas of 4 KiB: every container lands in some arena, and lookups find them all.
        let database = DatabaseGenerator(containers: 300).generate()
        // Bodies from the canonical spans here, encoded in the reference.
        let canonical = CanonicalEncoder.encode(database)
        let spans = try DatabaseDecoder.decodeNotingCanonical(canonical).canonicalReleaseSpans
        #expect(spans != nil)
        let bytes = ByteBuffer(bytes: canonical)
        let snapshot = SnapshotBuilder.build(TypedReleases(database: database, canonical: bytes, spans: spans), canonical: bytes, loadedAt: 0, chunkSize: 4096)
        let reference = SnapshotBuilder.build(database: database, canonicalBytes: CanonicalEncoder.encode(database), loadedAt: 0)
        for release in database.releases {
            let entry = try #require(snapshot.release(container: release.container, channel: release.channel))
            #expect(entry.body == reference.release(container: release.container, channel: release.channel)?.body)
            #expect(snapshot.container(release.container)?.body.identity == reference.container(release.container)?.body.identity)
            var key = ByteBuffer()
            ProtocolKey(release).write(to: &key)
            #expect(snapshot.record(forKey: key) == entry.record)
        }
    }

    @Test func bodiesFromCanonicalSpansAreTheEncodedBodies() throws {
        var releases = DatabaseGenerator(containers: 300, seed: 5).generate().releases
        releases[0].digest = nil
        releases[1].source = nil
        releases[4].source?.runID = nil
        let database = ReleaseDatabase(channels: ["dev", "stage", "prod"], releases: releases)
        let canonical = CanonicalEncoder.encode(database)
        let decoded = try DatabaseDecoder.decodeNotingCanonical(canonical)
        let spans = try #require(decoded.canonicalReleaseSpans)
        let fromSpans = SnapshotBuilder.build(database: decoded.database, canonicalBytes: canonical, canonicalReleaseSpans: spans, loadedAt: 0)
        let encoded = SnapshotBuilder.build(database: database, canonicalBytes: canonical, loadedAt: 0)
        #expect(fromSpans.revision == encoded.revision)
        for release in database.releases {
            let container = try #require(fromSpans.container(release.container))
            #expect(container.body.identity == encoded.container(release.container)?.body.identity)
            let entry = try #require(fromSpans.release(container: release.container, channel: release.channel))
            #expect(entry.body == encoded.release(container: release.container, channel: release.channel)?.body)
        }
    }

    /// A canonical file's snapshot is built from its index (no typed releases): it must serve exactly
    /// what the snapshot of the decoded db serves, arena boundaries included.
    @Test(arguments: [4096, SnapshotBuilder.chunkSize]) func snapshotsFromTheIndexServeWhatTheDecodedDbServes(chunkSize: Int) throws {
        var releases = DatabaseGenerator(containers: 300, seed: 7).generate().releases
        releases[0].digest = nil
        releases[1].source = nil
        releases[5].source?.runID = nil
        releases.removeLast()  // a container without a release on one channel
        let database = ReleaseDatabase(channels: ["dev", "stage", "prod"], releases: releases)
        let canonical = CanonicalEncoder.encode(database)
        let index = try #require(canonical.withUnsafeBufferPointer { DatabaseDecoder.indexCanonical($0) })
        let bytes = ByteBuffer(bytes: canonical)
        let fromIndex = SnapshotBuilder.build(IndexedReleases(index: index, canonical: bytes), canonical: bytes, loadedAt: 0, chunkSize: chunkSize)
        let decoded = SnapshotBuilder.build(database: database, canonicalBytes: canonical, loadedAt: 0)
        #expect(fromIndex.revision == decoded.revision)
        #expect(fromIndex.channels == decoded.channels)
        #expect(fromIndex.releaseCount == decoded.releaseCount && fromIndex.containerCount == decoded.containerCount)
        #expect(fromIndex.channelsBody.identity == decoded.channelsBody.identity)
        #expect(fromIndex.wholeDatabase.heldIdentity == decoded.wholeDatabase.heldIdentity)
        for container in Set(database.releases.map(\.container)) {
            let entry = try #require(fromIndex.container(container))
            let reference = try #require(decoded.container(container))
            #expect(entry.body.identity == reference.body.identity)
            #expect(entry.body.gzip == reference.body.gzip)
            for channel in database.channels {
                let release = fromIndex.release(container: container, channel: channel)
                #expect(release?.body == decoded.release(container: container, channel: channel)?.body)
                #expect(release?.record == decoded.release(container: container, channel: channel)?.record)
                var key = ByteBuffer()
                key.writeInteger(UInt16(container.utf8.count))
                key.writeString(container)
                key.writeInteger(UInt16(channel.utf8.count))
                key.writeString(channel)
                #expect(fromIndex.record(forKey: key) == release?.record)
            }
        }
    }

    @Test func writesTheWholeDatabaseInflatedInChunks() async throws {
        // Larger than one inflate chunk, so the identity comes in several pieces.
        let database = DatabaseGenerator(containers: 2_000, seed: 3).generate()
        let canonical = CanonicalEncoder.encode(database)
        #expect(canonical.count > 2 * WholeDatabaseBody.inflateChunkSize)
        let snapshot = SnapshotBuilder.build(database: database, canonicalBytes: canonical, loadedAt: 0)
        var before: [ByteBuffer] = []
        try await snapshot.wholeDatabase.writeIdentity { before.append($0) }
        #expect(before.count == 1 && before.first.map { Array($0.readableBytesView) } == canonical)

        try snapshot.compressWholeDatabase()
        var pieces: [ByteBuffer] = []
        try await snapshot.wholeDatabase.writeIdentity { pieces.append($0) }
        #expect(pieces.count > 2)
        #expect(pieces.allSatisfy { $0.readableBytes <= WholeDatabaseBody.inflateChunkSize })
        #expect(pieces.flatMap { Array($0.readableBytesView) } == canonical)
    }

    @Test func compressesOnlyWhereItPays() throws {
        let database = Fixtures.database(containers: 200)
        let snapshot = SnapshotBuilder.build(database: database, canonicalBytes: CanonicalEncoder.encode(database), loadedAt: 0)
        // The whole db is compressed after the snapshot starts serving, not by the build.
        #expect(snapshot.wholeDatabase.gzip == nil)
        let identity = try #require(snapshot.wholeDatabase.heldIdentity)
        try snapshot.compressWholeDatabase()
        var gzip = try #require(snapshot.wholeDatabase.gzip?.buffer())
        #expect(gzip.readableBytes < identity.readableBytes / 3)
        let inflated = try gzip.decompress(with: .gzip(), maxSize: 64 << 20)
        #expect(inflated == identity)
        // Only the gzip form stays.
        #expect(snapshot.wholeDatabase.heldIdentity == nil)
        #expect(snapshot.wholeDatabase.identityLength == identity.readableBytes)
        // A three-release container body is well under the threshold: no gzip form.
        #expect(snapshot.container("app-7")?.body.gzip == nil)
        #expect(snapshot.channelsBody.gzip == nil)
    }

    /// The builder tells which container bodies to gzip before it renders them: the threshold holds to
    /// the byte.
    @Test func aContainerBodyIsKeptGzippedFromTheThresholdOn() throws {
        let channels = (0..<16).map { "ch\($0)" }
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        // 16 releases of one container whose tags add up to `extra` bytes more than 64 each.
        func database(extra: Int) -> ReleaseDatabase {
            var remaining = extra
            let big = channels.map { channel in
                let add = max(-63, min(64, remaining))
                remaining -= add
                let image = "registry.example.com/" + String(repeating: "p", count: 225) + ":" + String(repeating: "t", count: 64 + add)
                return Release(container: "big", channel: channel, image: image, digest: digest, updatedAt: "2026-01-01T00:00:00Z")
            }
            return ReleaseDatabase(channels: channels, releases: big + [Release(container: "small", channel: "ch0", image: "a", updatedAt: "2026-01-01T00:00:00Z")])
        }
        func build(_ database: ReleaseDatabase) -> Snapshot {
            SnapshotBuilder.build(database: database, canonicalBytes: CanonicalEncoder.encode(database), loadedAt: 0)
        }
        let base = try #require(build(database(extra: 0)).container("big")).body.identity.readableBytes
        let threshold = EncodedBody.compressionThreshold
        for length in [threshold - 1, threshold, threshold + 1] {
            let database = database(extra: length - base)
            _ = try DatabaseDecoder.decode(CanonicalEncoder.encode(database))
            let snapshot = build(database)
            let body = try #require(snapshot.container("big")).body
            #expect(body.identity.readableBytes == length)
            #expect((body.gzip != nil) == (length >= threshold), "\(length) bytes")
            if var gzip = body.gzip {
                #expect(try gzip.decompress(with: .gzip(), maxSize: 1 << 20) == body.identity)
            }
            #expect(snapshot.container("small")?.body.gzip == nil)
        }
    }
}

/// `str container, str channel`: the key of a protocol GET.
private struct ProtocolKey {
    let release: Release
    init(_ release: Release) { self.release = release }

    func write(to buffer: inout ByteBuffer) {
        for field in [self.release.container, self.release.channel] {
            buffer.writeInteger(UInt16(field.utf8.count))
            buffer.writeString(field)
        }
    }
}
