import Foundation
import Testing

@testable import ReleaseChannelModel

@Suite struct CanonicalEncoderTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func writesTheDocumentedLayout() throws {
        let database = ReleaseDatabase(
            channels: ["dev", "prod"],
            releases: [
                Release(container: "b", channel: "prod", image: "b:1", updatedAt: "2026-11-26T12:00:00Z"),
                Release(
                    container: "b",
                    channel: "dev",
                    image: "b:2",
                    digest: "sha256:" + String(repeating: "a", count: 64),
                    updatedAt: "2026-11-27T12:00:00Z",
                    source: ReleaseSource(repository: "acme/b", runID: 42, actor: "ci \"bot\"")
                ),
            ]
        )
        let expected = """
            {
              "schema_version": 1,
              "channels": ["dev", "prod"],
              "releases": [
                {
                  "container": "b",
                  "channel": "dev",
                  "image": "b:2",
                  "digest": "sha256:\(String(repeating: "a", count: 64))",
                  "updated_at": "2026-11-27T12:00:00Z",
                  "source": {
                    "repository": "acme/b",
                    "run_id": 42,
                    "actor": "ci \\"bot\\""
                  }
                },
                {
                  "container": "b",
                  "channel": "prod",
                  "image": "b:1",
                  "updated_at": "2026-11-26T12:00:00Z"
                }
              ]
            }

            """
        #expect(String(decoding: CanonicalEncoder.encode(database), as: UTF8.self) == expected)
        let empty = ReleaseDatabase(channels: ["dev"], releases: [])
        #expect(String(decoding: CanonicalEncoder.encode(empty), as: UTF8.self) == "{\n  \"schema_version\": 1,\n  \"channels\": [\"dev\"],\n  \"releases\": []\n}\n")
    }

    @Test func roundTripsAndIsIdempotent() throws {
        let bytes = try Array(Data(contentsOf: Self.repositoryRoot.appendingPathComponent("db/db.json")))
        let database = try DatabaseDecoder.decode(bytes)
        let canonical = CanonicalEncoder.encode(database)
        #expect(canonical == bytes, "the bundled db/db.json is kept in canonical form")
        let again = try DatabaseDecoder.decode(canonical)
        #expect(again == database)
        #expect(CanonicalEncoder.encode(again) == canonical)
    }

    @Test func revisionIgnoresFormatting() throws {
        let compact = #"{"releases":[{"updated_at":"2026-11-26T12:00:00Z","image":"a:1","channel":"dev","container":"a"}],"channels":["dev"],"schema_version":1}"#
        let pretty = "{\n  \"schema_version\": 1,\n  \"channels\": [\"dev\"],\n  \"releases\": [\n    {\"container\": \"a\", \"channel\": \"dev\", \"image\": \"a:1\", \"updated_at\": \"2026-11-26T12:00:00Z\"}\n  ]\n}"
        let first = CanonicalEncoder.encode(try DatabaseDecoder.decode(Array(compact.utf8)))
        let second = CanonicalEncoder.encode(try DatabaseDecoder.decode(Array(pretty.utf8)))
        #expect(first == second)
        let revision = DatabaseRevision.of(canonicalBytes: first)
        #expect(revision.count == 16)
        #expect(revision.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        let changed = CanonicalEncoder.encode(try DatabaseDecoder.decode(Array(compact.replacingOccurrences(of: "a:1", with: "a:2").utf8)))
        #expect(DatabaseRevision.of(canonicalBytes: changed) != revision)
    }

    @Test func escapesControlCharacters() {
        var writer = JSONWriter()
        writer.string("a\u{01}\n\"\\/é")
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #""a\u0001\n\"\\/é""#)
    }
}
