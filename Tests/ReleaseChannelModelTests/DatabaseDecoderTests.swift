import Testing

@testable import ReleaseChannelModel

@Suite struct DatabaseDecoderTests {
    static let digest = "sha256:" + String(repeating: "0f", count: 32)

    func issues(_ text: String) -> [ValidationIssue] {
        do {
            _ = try DatabaseDecoder.decode(Array(text.utf8))
            Issue.record("expected the document to be rejected")
            return []
        } catch {
            return error.issues
        }
    }

    @Test func decodesAValidDocument() throws {
        let text = """
            {"schema_version": 1, "channels": ["dev", "prod"], "releases": [
              {"container": "b", "channel": "prod", "image": "b:2", "updated_at": "2026-11-26T12:00:00Z"},
              {"container": "b", "channel": "dev", "image": "b:3", "digest": "\(Self.digest)", "updated_at": "2026-11-26T12:00:00Z",
               "source": {"repository": "acme/b", "run_id": 7, "actor": "ci-bot"}},
              {"container": "a", "channel": "prod", "image": "a:1", "updated_at": "2026-11-26T12:00:00Z", "source": {}}
            ]}
            """
        let database = try DatabaseDecoder.decode(Array(text.utf8))
        #expect(database.channels == ["dev", "prod"])
        // Canonical order: by container, then by channel position.
        #expect(database.releases.map { "\($0.container)/\($0.channel)" } == ["a/prod", "b/dev", "b/prod"])
        #expect(database.releases[1].digest == Self.digest)
        #expect(database.releases[1].source == ReleaseSource(repository: "acme/b", runID: 7, actor: "ci-bot"))
        #expect(database.releases[0].source == nil, "an empty source object is dropped")
    }

    @Test func reportsEveryProblemWithPathAndPosition() {
        let text = """
            {
              "schema_version": 1,
              "channels": ["dev", "stage", "prod"],
              "releases": [
                {"container": "ok", "channel": "dev", "image": "ok:1", "updated_at": "2026-11-26T12:00:00Z"},
                {"container": "Bad_Name", "channel": "qa", "image": "ghcr.io/Acme/app", "updated_at": "yesterday", "imgae": "x"},
                {"container": "ok", "channel": "dev", "image": "ok:2", "updated_at": "2026-11-26T12:00:00Z"},
                {"channel": "dev", "image": "x:1@\(Self.digest)", "digest": "sha256:\(String(repeating: "1", count: 64))",
                 "updated_at": "2026-11-26T12:00:00Z", "source": {"run_id": "12", "sha": "xyz"}}
              ]
            }
            """
        let issues = self.issues(text)
        let byPath = Dictionary(grouping: issues, by: \.path)
        #expect(byPath["releases[1].container"]?.first?.position == JSONPosition(line: 6, column: 19))
        #expect(byPath["releases[1].container"]?.first?.message.contains("DNS-1123") == true)
        #expect(byPath["releases[1].channel"]?.first?.message.contains("not listed in channels") == true)
        #expect(byPath["releases[1].image"]?.first?.message.contains("lowercase") == true)
        #expect(byPath["releases[1].image"]?.first?.position == JSONPosition(line: 6, column: 57))
        #expect(byPath["releases[1].updated_at"]?.first?.message.contains("RFC 3339") == true)
        #expect(byPath["releases[1].imgae"]?.first?.message.contains("unknown key") == true)
        #expect(byPath["releases[2]"]?.first?.message.contains("duplicate release for container \"ok\" on channel \"dev\" (first at releases[0])") == true)
        #expect(byPath["releases[3].container"]?.first?.message == "is required")
        #expect(byPath["releases[3].container"]?.first?.position == JSONPosition(line: 8, column: 5))
        #expect(byPath["releases[3].digest"]?.first?.message.contains("does not match") == true)
        #expect(byPath["releases[3].source.run_id"]?.first?.message.contains("integer") == true)
        #expect(byPath["releases[3].source.sha"]?.first?.message.contains("40 lowercase hex") == true)
        #expect(issues.count == 10, "\(issues.map(\.description).joined(separator: "\n"))")
        #expect(issues.map(\.description).contains("releases[1].image (6:57): invalid image reference \"ghcr.io/Acme/app\": the repository path must be lowercase"))
    }

    @Test(arguments: [
        (#"[]"#, "$", "must be an object"),
        (#"{"channels": ["dev"], "releases": []}"#, "schema_version", "is required"),
        (#"{"schema_version": 2, "channels": ["dev"], "releases": []}"#, "schema_version", "unsupported schema version"),
        (#"{"schema_version": 1, "releases": []}"#, "channels", "is required"),
        (#"{"schema_version": 1, "channels": [], "releases": []}"#, "channels", "between 1 and 16"),
        (#"{"schema_version": 1, "channels": ["dev", "dev"], "releases": []}"#, "channels[1]", "listed twice"),
        (#"{"schema_version": 1, "channels": ["Dev"], "releases": []}"#, "channels[0]", "lowercase"),
        (#"{"schema_version": 1, "channels": ["dev"]}"#, "releases", "is required"),
        (#"{"schema_version": 1, "channels": ["dev"], "releases": {}}"#, "releases", "must be an array"),
        (#"{"schema_version": 1, "channels": ["dev"], "releases": [], "extra": 1}"#, "extra", "unknown key"),
        (#"{"schema_version": 1, "channels": ["dev"], "releases": [7]}"#, "releases[0]", "must be an object"),
    ])
    func rejectsStructuralProblems(text: String, path: String, message: String) {
        let issues = self.issues(text)
        #expect(issues.contains { $0.path == path && $0.message.contains(message) }, "\(issues)")
    }

    @Test func distinguishesEmptyAndSyntaxErrors() {
        #expect(throws: DatabaseDecodingError.empty) { _ = try DatabaseDecoder.decode(Array(" \n\t".utf8)) }
        do {
            _ = try DatabaseDecoder.decode(Array("{\n  \"schema_version\": 1,\n  oops".utf8))
            Issue.record("expected a syntax error")
        } catch {
            guard case .syntax(let syntax) = error else {
                Issue.record("expected a syntax error, got \(error)")
                return
            }
            #expect(syntax.position == JSONPosition(line: 3, column: 3))
            #expect(error.code == "invalid_json")
            #expect(error.summary.hasPrefix("$ (3:3): invalid JSON"))
        }
    }
}
