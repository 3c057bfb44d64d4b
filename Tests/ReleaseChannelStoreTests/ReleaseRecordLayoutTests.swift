import NIOCore
import ReleaseChannelModel
import Testing

@testable import ReleaseChannelStore

@Suite struct ReleaseRecordLayoutTests {
    /// The record of docs/protocol.md §6.1, written field by field from the typed release: the reference
    /// the records written from JSON are compared with.
    func expectedRecord(_ release: Release) -> ByteBuffer {
        var buffer = ByteBuffer()
        for field in [release.container, release.channel, release.image, release.digest ?? "", release.updatedAt] {
            buffer.writeInteger(UInt16(field.utf8.count))
            buffer.writeString(field)
        }
        return buffer
    }

    func key(_ container: String, _ channel: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        for field in [container, channel] {
            buffer.writeInteger(UInt16(field.utf8.count))
            buffer.writeString(field)
        }
        return buffer
    }

    /// Releases at the limits of every record field, and a source with bytes JSON escapes after them.
    func edgeCaseDatabase() throws -> ReleaseDatabase {
        let longName = String(repeating: "a", count: 62) + "z"
        let channels = (0..<16).map { ($0 < 10 ? "0" : "") + String($0) + String(repeating: "c", count: 61) }
        let digest = "sha256:" + String(repeating: "0123456789abcdef", count: 4)
        let longImage = "registry.example.com:5000/" + (0..<9).map { "path-\($0)-" + String(repeating: "x", count: 16) }.joined(separator: "/")
            + ":" + String(repeating: "T", count: 128) + "@" + digest
        let releases = [
            Release(container: longName, channel: channels[0], image: longImage, digest: digest, updatedAt: "2026-11-27T08:31:12.123456789Z"),
            Release(container: longName, channel: channels[15], image: "a", updatedAt: "2026-11-27T08:31:12Z"),
            Release(
                container: "b", channel: channels[3], image: "[::1]:5000/x@" + digest, updatedAt: "2026-01-01T00:00:00.5Z",
                source: ReleaseSource(repository: "acme/b", ref: "refs/heads/\"quoted\"-é", runID: 9_007_199_254_740_991, actor: "bot[bot]")
            ),
        ]
        let database = ReleaseDatabase(channels: channels, releases: releases)
        // Valid by the db's own rules, or this test proves nothing about real snapshots.
        _ = try DatabaseDecoder.decode(CanonicalEncoder.encode(database))
        return database
    }

    @Test(arguments: [false, true]) func recordsWrittenFromTheJSONAreTheEncodedRecords(fromCanonicalSpans: Bool) throws {
        var releases = DatabaseGenerator(containers: 200, seed: 9).generate().releases
        releases[0].digest = nil
        releases[1].source = nil
        releases += try self.edgeCaseDatabase().releases.filter { $0.channel.hasPrefix("00") }.map {
            var release = $0
            release.channel = "dev"
            return release
        }
        let database = ReleaseDatabase(channels: ["dev", "stage", "prod"], releases: releases)
        let canonical = CanonicalEncoder.encode(database)
        let decoded = try DatabaseDecoder.decodeNotingCanonical(canonical)
        let spans = fromCanonicalSpans ? try #require(decoded.canonicalReleaseSpans) : nil
        let snapshot = SnapshotBuilder.build(database: decoded.database, canonicalBytes: canonical, canonicalReleaseSpans: spans, loadedAt: 0)
        for release in database.releases {
            let entry = try #require(snapshot.release(container: release.container, channel: release.channel))
            #expect(entry.record == self.expectedRecord(release), "\(release.container)/\(release.channel)")
            let found = snapshot.records.record(forKey: self.key(release.container, release.channel))
            #expect(found == self.expectedRecord(release))
        }
    }

    @Test func recordsAtTheFieldLimits() throws {
        let database = try self.edgeCaseDatabase()
        let snapshot = SnapshotBuilder.build(database: database, canonicalBytes: CanonicalEncoder.encode(database), loadedAt: 0)
        for release in database.releases {
            let entry = try #require(snapshot.release(container: release.container, channel: release.channel))
            #expect(entry.recordLayout != nil)
            #expect(entry.record == self.expectedRecord(release))
            // The index finds each one by its raw key, and a key one byte off finds nothing.
            var key = self.key(release.container, release.channel)
            #expect(key.withUnsafeReadableBytes { snapshot.records.withRelease(forKey: $0) { _, layout in layout } } == entry.recordLayout)
            key.writeInteger(UInt8(0))
            #expect(key.withUnsafeReadableBytes { snapshot.records.withRelease(forKey: $0) { _, _ in true } } == nil)
        }
        let other = self.key(database.releases[0].container, database.releases[2].channel)
        #expect(other.withUnsafeReadableBytes { snapshot.records.withRelease(forKey: $0) { _, _ in true } } == nil)
    }

    @Test(arguments: [
        // Key order, escapes and field shapes no release's compact JSON has.
        #"{"channel":"dev","container":"a","image":"a","updated_at":"2026-01-01T00:00:00Z"}"#,
        #"{"container":"a\u0062","channel":"dev","image":"a","updated_at":"2026-01-01T00:00:00Z"}"#,
        #"{"container":"a","channel":"dev","image":"a","digest":"sha256:00","updated_at":"2026-01-01T00:00:00Z"}"#,
        #"{"container":"","channel":"dev","image":"a","updated_at":"2026-01-01T00:00:00Z"}"#,
        #"{"container":"a","channel":"dev","image":"a","updated_at":"2026-01-01T00:00:00Z"x"#,
        #"{"container":"a","channel":"dev","image":"a","updated_at":"2026-01-01T00:00:00Z"#,
        #"{"container": "a","channel":"dev","image":"a","updated_at":"2026-01-01T00:00:00Z"}"#,
        #"{"container":"a","channel":"dev","image":"a","updated_at":"2026-01-01T00:00:00.0000000000000Z"}"#,
    ])
    func refusesOtherShapes(json: String) {
        let layout = Array(json.utf8).withUnsafeBytes { ReleaseRecordLayout(json: $0) }
        #expect(layout == nil)
    }

    @Test func readsTheShapeOfACompactRelease() throws {
        let json = #"{"container":"ab","channel":"dev","image":"img","updated_at":"2026-01-01T00:00:00Z","source":{}}"#
        let layout = try #require(Array(json.utf8).withUnsafeBytes { ReleaseRecordLayout(json: $0) })
        #expect(layout.keyLength == 4 + 2 + 3)
        #expect(layout.recordLength == 10 + 2 + 3 + 3 + 0 + 20)
    }
}
