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
        #expect(Array(snapshot.wholeDatabase.identity.readableBytesView) == canonical)
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

        let channels = try self.json(snapshot.channelsBody.identity)
        #expect(channels["channels"] as? [String] == ["dev", "stage", "prod"])
    }

    @Test func compressesOnlyWhereItPays() throws {
        let database = Fixtures.database(containers: 200)
        let snapshot = SnapshotBuilder.build(database: database, canonicalBytes: CanonicalEncoder.encode(database), loadedAt: 0)
        var gzip = try #require(snapshot.wholeDatabase.gzip)
        #expect(gzip.readableBytes < snapshot.wholeDatabase.identity.readableBytes / 3)
        let inflated = try gzip.decompress(with: .gzip(), maxSize: 64 << 20)
        #expect(inflated == snapshot.wholeDatabase.identity)
        // A three-release container body is well under the threshold: no gzip form.
        #expect(snapshot.container("app-7")?.body.gzip == nil)
        #expect(snapshot.channelsBody.gzip == nil)
    }
}
