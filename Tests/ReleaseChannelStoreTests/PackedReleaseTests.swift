import NIOCore
import ReleaseChannelModel
import Testing

@testable import ReleaseChannelStore

@Suite struct PackedReleaseTests {
    /// The record of docs/protocol.md §6.1, written field by field from the typed release: the reference
    /// the records rendered from packed releases are compared with.
    func expectedRecord(_ release: Release) -> ByteBuffer {
        var buffer = ByteBuffer()
        for field in [release.container, release.channel, release.image, release.digest ?? "", release.updatedAt] {
            buffer.writeInteger(UInt16(field.utf8.count))
            buffer.writeString(field)
        }
        return buffer
    }

    /// The compact JSON the HTTP API sends for a release, from the encoder the db file is written with.
    func expectedJSON(_ release: Release) -> ByteBuffer {
        var writer = JSONWriter()
        ReleaseObjectEncoder.append(release, to: &writer, indent: nil)
        return ByteBuffer(bytes: writer.bytes)
    }

    func key(_ container: String, _ channel: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        for field in [container, channel] {
            buffer.writeInteger(UInt16(field.utf8.count))
            buffer.writeString(field)
        }
        return buffer
    }

    /// Releases at the limits of every record field, and sources with bytes JSON escapes.
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
            Release(
                container: "b", channel: channels[4], image: "b", digest: digest, updatedAt: "2026-01-01T00:00:00Z",
                source: ReleaseSource(sha: String(repeating: "f0", count: 20), runID: 1)
            ),
            Release(container: "b", channel: channels[5], image: "c", updatedAt: "2026-01-01T00:00:00Z", source: ReleaseSource(actor: "x")),
            Release(
                container: "c", channel: channels[0], image: "d", updatedAt: "2026-01-01T00:00:00Z",
                source: ReleaseSource(repository: "o/" + String(repeating: "n", count: 100), sha: String(repeating: "0", count: 40), ref: "refs/" + String(repeating: "r", count: 250))
            ),
        ]
        let database = ReleaseDatabase(channels: channels, releases: releases)
        // Valid by the db's own rules, or this test proves nothing about real snapshots.
        _ = try DatabaseDecoder.decode(CanonicalEncoder.encode(database))
        return database
    }

    /// Every way a snapshot serves a release renders the bytes the encoder writes.
    func expectServed(_ database: ReleaseDatabase, by snapshot: Snapshot) throws {
        for release in database.releases {
            let entry = try #require(snapshot.release(container: release.container, channel: release.channel))
            #expect(entry.hasRecord)
            #expect(entry.body == self.expectedJSON(release), "\(release.container)/\(release.channel)")
            #expect(snapshot.fastPathBody(container: release.container, channel: release.channel) == self.expectedJSON(release))
            #expect(entry.record == self.expectedRecord(release), "\(release.container)/\(release.channel)")
            #expect(snapshot.record(forKey: self.key(release.container, release.channel)) == self.expectedRecord(release))
        }
        for container in Set(database.releases.map(\.container)) {
            let releases = database.releases.filter { $0.container == container }
            var expected = ByteBuffer(string: "{\"revision\":\"\(snapshot.revision)\",\"container\":\"\(container)\",\"releases\":[")
            for (index, release) in releases.enumerated() {
                if index > 0 { expected.writeString(",") }
                expected.writeImmutableBuffer(self.expectedJSON(release))
            }
            expected.writeString("]}")
            #expect(snapshot.container(container)?.body.identity == expected, "\(container)")
        }
    }

    @Test(arguments: [false, true]) func everyReleaseRendersAsTheEncoderWritesIt(fromCanonicalSpans: Bool) throws {
        var releases = DatabaseGenerator(containers: 200, seed: 9).generate().releases
        releases[0].digest = nil
        releases[1].source = nil
        releases[2].source?.sha = nil
        releases[3].source?.repository = nil
        releases[3].source?.actor = nil
        releases[4].source?.runID = nil
        let database = ReleaseDatabase(channels: ["dev", "stage", "prod"], releases: releases)
        let canonical = CanonicalEncoder.encode(database)
        let decoded = try DatabaseDecoder.decodeNotingCanonical(canonical)
        let spans = fromCanonicalSpans ? decoded.canonicalReleaseSpans : nil
        let snapshot = SnapshotBuilder.build(database: decoded.database, canonicalBytes: canonical, canonicalReleaseSpans: spans, loadedAt: 0)
        try self.expectServed(database, by: snapshot)
    }

    @Test func releasesAtTheFieldLimits() throws {
        let database = try self.edgeCaseDatabase()
        let snapshot = SnapshotBuilder.build(database: database, canonicalBytes: CanonicalEncoder.encode(database), loadedAt: 0)
        try self.expectServed(database, by: snapshot)
        for release in database.releases {
            // A key one byte off finds nothing.
            var key = self.key(release.container, release.channel)
            key.writeInteger(UInt8(0))
            #expect(snapshot.record(forKey: key) == nil)
            key.moveWriterIndex(to: key.writerIndex - 2)
            #expect(snapshot.record(forKey: key) == nil)
        }
        let other = self.key(database.releases[0].container, database.releases[2].channel)
        #expect(snapshot.record(forKey: other) == nil)
        for bytes: [UInt8] in [[], [0], [0, 0, 0], [0, 0, 0, 0], [0xFF, 0xFF, 0, 0], [0, 1, 0x62, 0xFF, 0xFF]] {
            #expect(snapshot.record(forKey: ByteBuffer(bytes: bytes)) == nil, "\(bytes)")
        }
    }

    /// Packs `json` on its own and renders it back.
    func packed(_ json: String, container: String = "a", channel: String = "dev") -> (packed: Bool, size: Int, json: ByteBuffer, record: ByteBuffer?) {
        var arena = ByteBuffer(bytes: [0])
        let jsonBytes = Array(json.utf8)
        let containerBytes = Array(container.utf8)
        let channelBytes = Array(channel.utf8)
        let packed = jsonBytes.withUnsafeBytes { json in
            containerBytes.withUnsafeBytes { container in
                channelBytes.withUnsafeBytes { channel in ReleasePacker.append(json: json, container: container, channel: channel, to: &arena) }
            }
        }
        var rendered = ByteBuffer()
        var record: ByteBuffer? = ByteBuffer()
        arena.withUnsafeReadableBytes { bytes in
            containerBytes.withUnsafeBytes { container in
                channelBytes.withUnsafeBytes { channel in
                    let release = PackedRelease(base: bytes.baseAddress! + 1, container: container, channel: channel)
                    #expect(release.jsonLength == jsonBytes.count)
                    release.writeJSON(to: &rendered)
                    if !release.writeRecord(to: &record!) { record = nil }
                }
            }
        }
        return (packed, arena.readableBytes - 1, rendered, record)
    }

    @Test(arguments: [
        // Key order, escapes and field shapes no release's compact JSON has.
        #"{"channel":"dev","container":"a","image":"a","updated_at":"2026-01-01T00:00:00Z"}"#,
        #"{"container":"a\u0062","channel":"dev","image":"a","updated_at":"2026-01-01T00:00:00Z"}"#,
        #"{"container":"a","channel":"dev","image":"a","digest":"sha256:00","updated_at":"2026-01-01T00:00:00Z"}"#,
        #"{"container":"a","channel":"dev","image":"a","digest":"sha256:\#(String(repeating: "A", count: 64))","updated_at":"2026-01-01T00:00:00Z"}"#,
        #"{"container":"a","channel":"dev","image":"a","updated_at":"2026-01-01T00:00:00Z","source":{"sha":"abc"}}"#,
        #"{"container":"a","channel":"dev","image":"a","updated_at":"2026-01-01T00:00:00Z","source":{"actor":"x","ref":"refs/x"}}"#,
        #"{"container":"a","channel":"dev","image":"a","updated_at":"2026-01-01T00:00:00Z","source":{"run_id":-1}}"#,
        #"{"container":"a","channel":"dev","image":"a","updated_at":"2026-01-01T00:00:00Z","source":{,"actor":"x"}}"#,
        #"{"container":"a","channel":"dev","image":"a","updated_at":"2026-01-01T00:00:00Z"x"#,
        #"{"container":"a","channel":"dev","image":"a","updated_at":"2026-01-01T00:00:00Z"#,
        #"{"container": "a","channel":"dev","image":"a","updated_at":"2026-01-01T00:00:00Z"}"#,
        #"{"container":"a","channel":"dev","image":"a","updated_at":"\#(String(repeating: "9", count: 256))"}"#,
        // The names the JSON holds are not the ones the table holds: kept as they are.
        #"{"container":"b","channel":"dev","image":"a","updated_at":"2026-01-01T00:00:00Z"}"#,
    ])
    func keepsOtherShapesVerbatim(json: String) {
        let result = self.packed(json)
        #expect(!result.packed)
        #expect(result.json == ByteBuffer(string: json))
        #expect(result.record == nil)
    }

    @Test func packsACompactReleaseToLessThanHalfItsJSON() throws {
        let digest = String(repeating: "0123456789abcdef", count: 4)
        let sha = String(repeating: "89abcdef", count: 5)
        let json = #"{"container":"my-app","channel":"prod","image":"ghcr.io/acme/my-app:v1.2.3","digest":"sha256:\#(digest)","updated_at":"2026-11-12T10:38:12Z","source":{"repository":"acme/my-app","sha":"\#(sha)","ref":"refs/tags/v1.2.3","run_id":10001258546,"actor":"github-actions[bot]"}}"#
        let result = self.packed(json, container: "my-app", channel: "prod")
        #expect(result.packed)
        #expect(result.json == ByteBuffer(string: json))
        #expect(result.size * 2 < json.utf8.count, "\(result.size) bytes packed for \(json.utf8.count) of JSON")
        var record = ByteBuffer()
        for field in ["my-app", "prod", "ghcr.io/acme/my-app:v1.2.3", "sha256:" + digest, "2026-11-12T10:38:12Z"] {
            record.writeInteger(UInt16(field.utf8.count))
            record.writeString(field)
        }
        #expect(result.record == record)
    }
}
