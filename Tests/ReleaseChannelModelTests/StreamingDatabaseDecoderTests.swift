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
        bytes.withUnsafeBufferPointer { StreamingDatabaseDecoder.decode($0) }
    }

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
        let original = Array(Self.sample.utf8)
        var accepted = 0
        var checked = 0
        for position in original.indices {
            var variants: [[UInt8]] = []
            var deleted = original
            deleted.remove(at: position)
            variants.append(deleted)
            for replacement in Array(#"0 ",}]\x-A."#.utf8) where replacement != original[position] {
                var replaced = original
                replaced[position] = replacement
                variants.append(replaced)
            }
            for variant in variants {
                checked += 1
                guard let fast = self.fast(variant) else { continue }
                accepted += 1
                #expect(fast == self.slow(variant), "\(String(decoding: variant, as: UTF8.self))")
            }
        }
        // Some variants stay valid (a space in whitespace, a digit in a timestamp): the check did run.
        #expect(accepted > 0 && accepted < checked)
    }
}
