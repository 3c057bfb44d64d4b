import ReleaseChannelTestSupport
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

    // MARK: Carrying releases over from the previous file's index

    /// Indexes `new` taking over from `old`'s index the releases in their unchanged ranges, and checks it
    /// against reading `new` whole: the same index (or nil for both), and every release taken over has
    /// the bytes of the release it was taken from. Returns how many were taken over.
    func expectCarryoverAgrees(from old: [UInt8], _ previous: CanonicalDatabaseIndex, to new: [UInt8]) -> Int {
        let carryover = IndexCarryover(previous: previous, unchanged: Fixtures.unchangedRanges(from: old, to: new))
        let carried = new.withUnsafeBufferPointer { DatabaseDecoder.indexCanonical($0, carryingOver: carryover) }
        let fresh = self.index(new)
        let text = String(decoding: new, as: UTF8.self)
        #expect((carried == nil) == (fresh == nil), "\(text)")
        guard let carried, let fresh else { return 0 }
        #expect(carried.index.channels == fresh.channels && carried.index.containerCount == fresh.containerCount, "\(text)")
        #expect(carried.index.entries == fresh.entries, "\(text)")
        #expect(carried.origins.count == fresh.count)
        var taken = 0
        for (position, origin) in carried.origins.enumerated() where origin >= 0 {
            taken += 1
            #expect(Array(new[fresh.span(of: position)]) == Array(old[previous.span(of: Int(origin))]), "\(text)")
        }
        return taken
    }

    /// The edits of the property test above, each indexed taking over what its unchanged prefix and
    /// suffix hold: at every position an edit can fall, inside a value, between releases, across the
    /// layout, the result is what reading the whole variant gives.
    @Test func takingReleasesOverGivesTheIndexOfTheWholeFile() async throws {
        let previous = try #require(self.index(Self.small))
        var taken = 0
        let replacing = Array("0a-\":\\".utf8) + [0xC3]
        let inserting = Array(" \n".utf8)
        for (number, variant) in StreamingDatabaseDecoderTests.edits(of: Self.small, replacing: replacing, inserting: inserting).enumerated() {
            if number % 256 == 0 { await Task.yield() }
            taken += self.expectCarryoverAgrees(from: Self.small, previous, to: variant)
        }
        // Releases away from an edit were taken over.
        #expect(taken > 0)
    }

    /// The edits a GitOps commit makes to a larger db: all but the releases they touch are taken over.
    @Test func aCommitsEditLeavesOnlyItsReleasesToRead() throws {
        let database = DatabaseGenerator(containers: 200, seed: 9).generate()
        let old = CanonicalEncoder.encode(database)
        let previous = try #require(self.index(old))
        var releases = database.releases
        let middle = releases.count / 2
        // An edit's own release is read, and at most one neighbour whose first bytes match the edit's.
        var edits: [(name: String, releases: [Release])] = []
        var changed = releases
        changed[middle].image += "-hotfix"
        edits.append(("an image changed", changed))
        changed = releases
        changed.remove(at: middle)
        edits.append(("a release removed", changed))
        changed = releases
        changed.insert(Release(container: releases[middle].container + "-b", channel: "dev", image: "x:1", updatedAt: "2026-11-29T00:00:00Z"), at: middle + 1)
        edits.append(("a container added", changed))
        releases.removeAll { $0.container == database.releases[middle].container && $0.channel == "prod" }
        let withoutProd = CanonicalEncoder.encode(ReleaseDatabase(channels: database.channels, releases: releases))
        let withoutProdIndex = try #require(self.index(withoutProd))
        // A release added after a container's others: the container's old releases are taken over, the new one read.
        #expect(self.expectCarryoverAgrees(from: withoutProd, withoutProdIndex, to: old) >= database.releases.count - 2)
        for edit in edits {
            let new = CanonicalEncoder.encode(ReleaseDatabase(channels: database.channels, releases: edit.releases))
            #expect(self.expectCarryoverAgrees(from: old, previous, to: new) >= edit.releases.count - 2, "\(edit.name)")
        }
        // Other channels: every release is read again (each was checked against the channel list).
        let renamed = CanonicalEncoder.encode(
            ReleaseDatabase(channels: ["dev", "stage", "prod", "qa"], releases: database.releases)
        )
        #expect(self.expectCarryoverAgrees(from: old, previous, to: renamed) == 0)
    }

    /// The file's digest with its prefixes noted: the same digest, and each noted prefix's SHA-256.
    @Test func notesTheDigestOfEveryPrefix() {
        let bytes = CanonicalEncoder.encode(DatabaseGenerator(containers: 100, seed: 3).generate())
        let interval = 4096
        let (digest, prefixes) = bytes.withUnsafeBytes { DatabaseRevision.fileDigest(of: $0, notingPrefixesEvery: interval) }
        #expect(digest == DatabaseRevision.fileDigest(of: bytes))
        #expect(prefixes.count == bytes.count / interval * 32 && prefixes.count > 32)
        for count in 0..<(prefixes.count / 32) {
            let hex = prefixes[(32 * count)..<(32 * count + 32)].map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
            #expect(hex == DatabaseRevision.fileDigest(of: Array(bytes[..<((count + 1) * interval)])))
        }
    }
}
