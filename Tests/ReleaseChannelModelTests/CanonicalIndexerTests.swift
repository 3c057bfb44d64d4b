import Testing

@testable import ReleaseChannelModel

/// The canonical indexer must take exactly the canonical documents the decoders call canonical (those
/// without escapes or non-ASCII bytes), and say of them what the decoders say.
@Suite struct CanonicalIndexerTests {
    /// A small canonical document with every optional key present somewhere and absent somewhere: the
    /// property test below tries ten edits per byte of it.
    static let small: [UInt8] = {
        let digest = "sha256:" + String(repeating: "0f", count: 32)
        let releases = [
            Release(
                container: "a", channel: "dev", image: "ghcr.io/acme/a:1@" + digest, digest: digest, updatedAt: "2026-11-26T12:00:00.5Z",
                source: ReleaseSource(repository: "acme/a", sha: String(repeating: "c", count: 40), ref: "refs/heads/main", runID: 7, actor: "ci[bot]")
            ),
            Release(container: "a", channel: "prod", image: "a:2", updatedAt: "2026-11-26T12:00:00Z", source: ReleaseSource(ref: "refs/tags/v2", actor: "x")),
            Release(container: "b", channel: "stage", image: "b", updatedAt: "2026-11-26T12:00:00Z"),
        ]
        return CanonicalEncoder.encode(ReleaseDatabase(channels: ["dev", "stage", "prod"], releases: releases))
    }()

    func index(_ bytes: [UInt8]) -> CanonicalDatabaseIndex? {
        bytes.withUnsafeBufferPointer { DatabaseDecoder.indexCanonical($0) }
    }

    /// The one-pass decoder's reading of `bytes` when it calls them canonical (its own tests prove it
    /// agrees with the tree decoder and calls canonical exactly the encoder's bytes).
    func canonicalDecoding(_ bytes: [UInt8]) -> DecodedDatabase? {
        guard let decoded = bytes.withUnsafeBufferPointer({ StreamingDatabaseDecoder.decode($0) }), decoded.isCanonical else { return nil }
        return decoded
    }

    /// Whether `index` says what `decoded` says: channels, spans, container names, channel positions.
    func agree(_ index: CanonicalDatabaseIndex, _ decoded: DecodedDatabase, bytes: [UInt8]) -> Bool {
        let releases = decoded.database.releases
        guard index.channels == decoded.database.channels, index.count == releases.count,
            index.containerCount == Set(releases.map(\.container)).count
        else { return false }
        for (position, release) in releases.enumerated() {
            guard index.span(of: position) == decoded.canonicalReleaseSpans?[position],
                Array(bytes[index.containerName(of: position)]) == Array(release.container.utf8),
                index.channels[index.channel(of: position)] == release.channel
            else { return false }
        }
        return true
    }

    @Test func indexesCanonicalDocuments() throws {
        var documents = [StreamingDatabaseDecoderTests.canonical, Self.small]
        for containers in [0, 1, 7, 200] {
            documents.append(CanonicalEncoder.encode(DatabaseGenerator(containers: containers, seed: 4).generate()))
        }
        for document in documents {
            let index = try #require(self.index(document))
            let decoded = try #require(self.canonicalDecoding(document))
            #expect(self.agree(index, decoded, bytes: document))
        }
    }

    @Test(arguments: [
        // Valid and canonical, but with an escape sequence or a non-ASCII byte: left to the decoders.
        "{\n  \"schema_version\": 1,\n  \"channels\": [\"dev\"],\n  \"releases\": [\n    {\n      \"container\": \"a\",\n      \"channel\": \"dev\",\n      \"image\": \"a:1\",\n      \"updated_at\": \"2026-11-26T12:00:00Z\",\n      \"source\": {\n        \"ref\": \"refs/heads/\\\"q\\\"\"\n      }\n    }\n  ]\n}\n",
        "{\n  \"schema_version\": 1,\n  \"channels\": [\"dev\"],\n  \"releases\": [\n    {\n      \"container\": \"a\",\n      \"channel\": \"dev\",\n      \"image\": \"a:1\",\n      \"updated_at\": \"2026-11-26T12:00:00Z\",\n      \"source\": {\n        \"ref\": \"refs/heads/é\"\n      }\n    }\n  ]\n}\n",
    ])
    func leavesEscapesAndNonASCIIToTheDecoders(text: String) throws {
        let bytes = Array(text.utf8)
        #expect(self.index(bytes) == nil)
        let decoded = try DatabaseDecoder.decodeNotingCanonical(bytes)
        #expect(CanonicalEncoder.encode(decoded.database) == bytes)
    }

    /// Every one-byte deletion, and some replacements and insertions at every position, of a canonical
    /// document: the indexer takes a variant exactly when the decoder calls it canonical (and it has no
    /// escape or non-ASCII byte), and then they agree on every release.
    @Test func indexesExactlyWhatTheDecoderCallsCanonical() async {
        var indexed = 0
        var refused = 0
        let replacing = Array("0a-\":\\".utf8) + [0xC3]
        let inserting = Array(" \n".utf8)
        for (number, variant) in StreamingDatabaseDecoderTests.edits(of: Self.small, replacing: replacing, inserting: inserting).enumerated() {
            // A long loop: share the concurrency pool with the suite's other tests (see the decoder's test).
            if number % 256 == 0 { await Task.yield() }
            let index = self.index(variant)
            let decoded = self.canonicalDecoding(variant)
            let plain = !variant.contains(UInt8(ascii: "\\")) && variant.allSatisfy { $0 < 0x80 }
            #expect((index != nil) == (decoded != nil && plain), "\(String(decoding: variant, as: UTF8.self))")
            if let index, let decoded {
                indexed += 1
                #expect(self.agree(index, decoded, bytes: variant), "\(String(decoding: variant, as: UTF8.self))")
            } else {
                refused += 1
            }
        }
        // Both kinds occurred: edits inside values (still canonical) and of the layout (not).
        #expect(indexed > 0 && refused > indexed)
    }
}
