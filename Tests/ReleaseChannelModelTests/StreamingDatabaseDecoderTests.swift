import Foundation
import Testing

@testable import ReleaseChannelModel

/// The one-pass decoder must accept only what the tree-based decoder accepts, with the same result.
@Suite struct StreamingDatabaseDecoderTests {
    static let digest = "sha256:" + String(repeating: "0f", count: 32)
    static let sample = """
        {"schema_version": 1, "channels": ["dev", "prod"], "releases": [
          {"container": "b", "channel": "prod", "image": "b:2", "updated_at": "2026-11-26T12:00:00Z"},
          {"container": "b", "channel": "dev", "image": "b:3@\(digest)", "digest": "\(digest)", "updated_at": "2026-11-26T12:00:00.5Z",
           "source": {"repository": "acme/b", "sha": "\(String(repeating: "a", count: 40))", "ref": "refs/heads/main", "run_id": 7, "actor": "ci-bot[bot]"}},
          {"container": "a", "channel": "prod", "image": "a:1", "updated_at": "2026-11-26T12:00:00Z", "source": {}}
        ]}
        """

    func fast(_ bytes: [UInt8]) -> ReleaseDatabase? {
        self.fastNotingCanonical(bytes)?.database
    }

    func fastNotingCanonical(_ bytes: [UInt8]) -> (database: ReleaseDatabase, isCanonical: Bool)? {
        bytes.withUnsafeBufferPointer { StreamingDatabaseDecoder.decode($0) }.map { ($0.database, $0.isCanonical) }
    }

    /// At every position of `original`: the byte deleted, replaced by each of `replacing` (where it
    /// differs) and preceded by each of `inserting`.
    static func edits(of original: [UInt8], replacing: [UInt8], inserting: [UInt8]) -> [[UInt8]] {
        var variants: [[UInt8]] = []
        for position in original.indices {
            var deleted = original
            deleted.remove(at: position)
            variants.append(deleted)
            for byte in replacing where byte != original[position] {
                var replaced = original
                replaced[position] = byte
                variants.append(replaced)
            }
            for byte in inserting {
                var inserted = original
                inserted.insert(byte, at: position)
                variants.append(inserted)
            }
        }
        return variants
    }

    /// A canonical document with every optional key present somewhere and absent somewhere.
    static let canonical: [UInt8] = {
        var releases = DatabaseGenerator(containers: 2).generate().releases
        releases[0].digest = nil
        releases[1].source = nil
        releases[2].source?.runID = nil
        releases[3].source?.sha = nil
        releases.append(Release(container: "zz-top", channel: "prod", image: "zz:1", digest: nil, updatedAt: "2026-11-26T12:00:00Z", source: nil))
        return CanonicalEncoder.encode(ReleaseDatabase(channels: ["dev", "stage", "prod"], releases: releases))
    }()

    func slow(_ bytes: [UInt8]) -> ReleaseDatabase? {
        try? DatabaseDecoder.decodeWithDiagnostics(bytes)
    }

    @Test func takesValidDocumentsWithTheSameResult() throws {
        var documents = [Array(Self.sample.utf8)]
        for containers in [0, 1, 7, 200] {
            let database = DatabaseGenerator(containers: containers).generate()
            documents.append(CanonicalEncoder.encode(database))
        }
        let compact = String(decoding: documents[2], as: UTF8.self).split(separator: "\n").map { $0.trimmingPrefix(" ") }.joined()
        documents.append(Array(compact.utf8))
        for document in documents {
            let fast = try #require(self.fast(document), "\(String(decoding: document.prefix(200), as: UTF8.self))")
            #expect(fast == self.slow(document))
        }
    }

    @Test(arguments: [
        #"{"schema_version": 1, "channels": ["dev"], "releases": [{"container": "a\u0062", "channel": "dev", "image": "a:1", "updated_at": "2026-11-26T12:00:00Z"}]}"#,
        "\u{FEFF}" + #"{"schema_version": 1, "channels": ["dev"], "releases": []}"#,
        #"{"releases": [], "schema_version": 1, "channels": ["dev"]}"#,
    ])
    func leavesUnusualValidDocumentsToTheTreeDecoder(text: String) throws {
        let bytes = Array(text.utf8)
        #expect(self.fast(bytes) == nil)
        #expect(try DatabaseDecoder.decode(bytes) == self.slow(bytes))
    }

    @Test(arguments: [
        // The same (container, channel) twice, apart and adjacent.
        #"{"schema_version": 1, "channels": ["dev", "prod"], "releases": [{"container": "a", "channel": "dev", "image": "a:1", "updated_at": "2026-11-26T12:00:00Z"}, {"container": "b", "channel": "dev", "image": "b:1", "updated_at": "2026-11-26T12:00:00Z"}, {"container": "a", "channel": "dev", "image": "a:2", "updated_at": "2026-11-26T12:00:00Z"}]}"#,
        #"{"schema_version": 1, "channels": ["dev", "prod"], "releases": [{"container": "a", "channel": "dev", "image": "a:1", "updated_at": "2026-11-26T12:00:00Z"}, {"container": "a", "channel": "dev", "image": "a:2", "updated_at": "2026-11-26T12:00:00Z"}]}"#,
        // A key twice in a source object.
        #"{"schema_version": 1, "channels": ["dev"], "releases": [{"container": "a", "channel": "dev", "image": "a:1", "updated_at": "2026-11-26T12:00:00Z", "source": {"run_id": 1, "run_id": 2}}]}"#,
        #"{"schema_version": 1, "channels": ["dev"], "releases": [{"container": "a", "channel": "dev", "image": "a:1", "updated_at": "2026-11-26T12:00:00Z", "source": {"actor": "x", "actor": "y"}}]}"#,
    ])
    func rejectsDuplicates(text: String) {
        let bytes = Array(text.utf8)
        #expect(self.fast(bytes) == nil)
        #expect(throws: DatabaseDecodingError.self) { try DatabaseDecoder.decode(bytes) }
    }

    /// Every one-byte deletion, and a few replacements at every position, of a valid document: whatever
    /// the one-pass decoder accepts, the tree decoder accepts with the same result.
    @Test func neverAcceptsWhatTheTreeDecoderRejects() {
        var accepted = 0
        var checked = 0
        for variant in Self.edits(of: Array(Self.sample.utf8), replacing: Array(#"0 ",}]\x-A."#.utf8), inserting: []) {
            checked += 1
            guard let fast = self.fast(variant) else { continue }
            accepted += 1
            #expect(fast == self.slow(variant), "\(String(decoding: variant, as: UTF8.self))")
        }
        // Some variants stay valid (a space in whitespace, a digit in a timestamp): the check did run.
        #expect(accepted > 0 && accepted < checked)
    }

    @Test func notesWhetherTheBytesAreTheCanonicalEncoding() throws {
        for containers in [0, 1, 7] {
            let bytes = CanonicalEncoder.encode(DatabaseGenerator(containers: containers).generate())
            #expect(self.fastNotingCanonical(bytes)?.isCanonical == true)
        }
        #expect(self.fastNotingCanonical(Self.canonical)?.isCanonical == true)
        // One span per release, each from its `{` to its `}` (the snapshot builder's tests check what
        // it makes of them).
        let decoded = try #require(Self.canonical.withUnsafeBufferPointer { StreamingDatabaseDecoder.decode($0) })
        let spans = try #require(decoded.canonicalReleaseSpans)
        #expect(spans.count == decoded.database.releases.count)
        #expect(spans.allSatisfy { Self.canonical[$0.lowerBound] == UInt8(ascii: "{") && Self.canonical[$0.upperBound - 1] == UInt8(ascii: "}") })
        // Compact layout, unsorted releases, an empty source.
        #expect(self.fastNotingCanonical(Array(Self.sample.utf8))?.isCanonical == false)
    }

    /// Every one-byte deletion, and a few replacements and insertions at every position, of a canonical
    /// document: whatever the one-pass decoder accepts, it calls canonical exactly when the encoder
    /// writes the same bytes (a wrong "canonical" would serve a revision other tools do not compute).
    @Test func callsCanonicalExactlyWhatTheEncoderWrites() async {
        var accepted = 0
        var canonical = 0
        let bytes = Array(" \n\t0a-".utf8)
        for (number, variant) in Self.edits(of: Self.canonical, replacing: bytes, inserting: bytes).enumerated() {
            // Seconds of work in a debug build: let the suite's other tests have the concurrency pool's
            // threads too, or their clients and servers stall behind this loop.
            if number % 256 == 0 { await Task.yield() }
            guard let (database, isCanonical) = self.fastNotingCanonical(variant) else { continue }
            accepted += 1
            if isCanonical { canonical += 1 }
            #expect(isCanonical == (CanonicalEncoder.encode(database) == variant), "\(String(decoding: variant, as: UTF8.self))")
        }
        // Both kinds occurred: edits of whitespace (not canonical) and of values (still canonical).
        #expect(accepted > canonical && canonical > 0)
    }

    @Test func reordersAndEmptySourcesAreNotCanonical() throws {
        let text = String(decoding: Self.canonical, as: UTF8.self)
        let swappedKeys = text.replacingOccurrences(
            of: "\"container\": \"zz-top\",\n      \"channel\": \"prod\"",
            with: "\"channel\": \"prod\",\n      \"container\": \"zz-top\""
        )
        let emptySource = text.replacingOccurrences(
            of: "\"updated_at\": \"2026-11-26T12:00:00Z\"\n    }\n  ]",
            with: "\"updated_at\": \"2026-11-26T12:00:00Z\",\n      \"source\": {}\n    }\n  ]"
        )
        for variant in [swappedKeys, emptySource] {
            #expect(variant != text)
            let decoded = try #require(self.fastNotingCanonical(Array(variant.utf8)))
            #expect(!decoded.isCanonical)
            #expect(CanonicalEncoder.encode(decoded.database) == Self.canonical)
        }
        // Releases out of order: the first container's block moved to the end.
        let database = try DatabaseDecoder.decode(Self.canonical)
        var moved = database.releases
        moved.append(moved.removeFirst())
        var writer = JSONWriter()
        writer.raw("{\n  \"schema_version\": 1,\n  \"channels\": [\"dev\", \"stage\", \"prod\"],\n  \"releases\": [\n")
        for (index, release) in moved.enumerated() {
            if index > 0 { writer.raw(",\n") }
            ReleaseObjectEncoder.append(release, to: &writer, indent: 4)
        }
        writer.raw("\n  ]\n}\n")
        #expect(self.fastNotingCanonical(writer.bytes)?.isCanonical == false)
    }
}
