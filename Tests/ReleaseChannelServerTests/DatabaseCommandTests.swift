import ReleaseChannelTestSupport
import Foundation
import Testing

/// `release-chan db validate | get | fmt` on real files.
@Suite struct DatabaseCommandTests {
    func run(_ arguments: [String]) async throws -> Subprocess.Result {
        try await Subprocess.run(Fixtures.executable.path, arguments)
    }

    @Test func validateAcceptsTheBundledDatabase() async throws {
        let path = Fixtures.repositoryRoot.appendingPathComponent("db/db.json").path
        let result = try await self.run(["db", "validate", path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("valid (revision "))
    }

    @Test func validateListsEveryErrorWithLineAndColumn() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        let text = """
            {
              "schema_version": 1,
              "channels": ["dev"],
              "releases": [
                {"container": "ok", "channel": "qa", "image": "ok:1", "updated_at": "2026-11-26T12:00:00Z"},
                {"container": "ok2", "channel": "dev", "image": "Bad Image", "updated_at": "2026-11-26T12:00:00Z", "note": 1}
              ]
            }
            """
        try Fixtures.write(Array(text.utf8), to: path)
        let result = try await self.run(["db", "validate", path])
        #expect(result.status == 1)
        let lines = result.standardError.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("\(path):5:36: releases[0].channel: channel \"qa\" is not listed") })
        #expect(lines.contains { $0.hasPrefix("\(path):6:53: releases[1].image: invalid image reference \"Bad Image\"") })
        #expect(lines.contains { $0.hasPrefix("\(path):6:104: releases[1].note: unknown key \"note\"") })

        try Fixtures.write(Array("{\n  \"schema_version\": 1,\n  \"channels\": [\"dev\"]\n  \"releases\": []\n}".utf8), to: path)
        let syntax = try await self.run(["db", "validate", path])
        #expect(syntax.status == 1)
        #expect(syntax.standardError.hasPrefix("\(path):4:3: invalid JSON: unexpected character '\"', expected ',' or '}'"), "\(syntax.standardError)")

        let missing = try await self.run(["db", "validate", directory.file("nope.json")])
        #expect(missing.status == 4)
    }

    @Test func getPrintsImagesAndFailsClearly() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        try Fixtures.write(Fixtures.bytes(containers: 2), to: path)
        let one = try await self.run(["db", "get", "--db", path, "my-app", "prod"])
        #expect(one.status == 0)
        #expect(one.standardOutput == "ghcr.io/acme/app-0:v1-prod\n")
        let all = try await self.run(["db", "get", "--db", path, "app-1"])
        #expect(all.standardOutput == "CHANNEL  IMAGE\ndev      ghcr.io/acme/app-1:v1-dev\nstage    ghcr.io/acme/app-1:v1-stage\nprod     ghcr.io/acme/app-1:v1-prod\n")
        let json = try await self.run(["db", "get", "--db", path, "my-app", "dev", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any]
        #expect(object?["image"] as? String == "ghcr.io/acme/app-0:v1-dev")
        let unknown = try await self.run(["db", "get", "--db", path, "nope"])
        #expect(unknown.status == 1)
        #expect(unknown.standardError.contains("no releases for container \"nope\""))
        let channel = try await self.run(["db", "get", "--db", path, "my-app", "qa"])
        #expect(channel.status == 1)
        #expect(channel.standardError.contains("unknown channel \"qa\""))
        let invalid = try await self.run(["db", "get", "--db", path, "Not_Valid"])
        #expect(invalid.status == 2)
    }

    @Test func fmtWritesCanonicalFormAndCheckDetectsDrift() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        let compact = #"{"releases":[{"updated_at":"2026-11-26T12:00:00Z","image":"b:1","channel":"prod","container":"b"},{"container":"a","channel":"dev","image":"a:1","updated_at":"2026-11-26T12:00:00Z"}],"channels":["dev","prod"],"schema_version":1}"#
        try Fixtures.write(Array(compact.utf8), to: path)
        let check = try await self.run(["db", "fmt", path, "--check"])
        #expect(check.status == 1)
        #expect(check.standardError.contains("not in canonical form"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == compact, "--check never writes")

        let format = try await self.run(["db", "fmt", path])
        #expect(format.status == 0)
        let formatted = try String(contentsOfFile: path, encoding: .utf8)
        #expect(formatted.hasPrefix("{\n  \"schema_version\": 1,\n  \"channels\": [\"dev\", \"prod\"],\n  \"releases\": [\n    {\n      \"container\": \"a\","))
        #expect(formatted.hasSuffix("}\n"))
        let again = try await self.run(["db", "fmt", path])
        #expect(again.standardOutput.contains("already canonical"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == formatted)
        #expect(try await self.run(["db", "fmt", path, "--check"]).status == 0)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        // The update commands' lock file stays by design (FileLock); no temporary file does.
        #expect(Set(leftovers) == ["db.json", "db.json.lock"], "no temporary files are left behind")

        try Fixtures.write(Array("{".utf8), to: path)
        let invalid = try await self.run(["db", "fmt", path])
        #expect(invalid.status == 1)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{", "an invalid file is never rewritten")
    }

    /// A negative number is read as the option's value and refused by its rule: it had been taken for an
    /// option, "Missing value for '--containers <containers>'".
    @Test func negativeNumbersAreValuesAndRefusedByTheirRule() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        try Fixtures.write(Fixtures.bytes(containers: 1), to: path)
        for (arguments, status, message) in [
            (["db", "generate", "--containers", "-5"], Int32(2), "--containers must be between 1 and 10000000"),
            (["db", "history", "--db", path, "my-app", "--limit", "-1"], 2, "--limit must be at least 1, not -1"),
            (["db", "history", "--db", path, "my-app", "--limit", "0"], 2, "--limit must be at least 1, not 0"),
            (["db", "set", "--db", path, "--container", "my-app", "--channel", "dev", "--image", "ghcr.io/acme/my-app:v2", "--run-id", "-5"], 1, "--run-id: source run_id -5 must be between 1"),
            (["query", "--timeout", "-1", "my-app"], 2, "--timeout must be a number of seconds above 0"),
        ] {
            let result = try await self.run(arguments)
            #expect(result.status == status, "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains(message), "\(arguments): \(result.standardError)")
        }
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == Fixtures.bytes(containers: 1))
    }

    @Test func everyCommandHasHelp() async throws {
        for command in [[], ["serve"], ["db"], ["db", "validate"], ["db", "get"], ["db", "fmt"]] {
            let result = try await self.run(command + ["--help"])
            #expect(result.status == 0, "\(command)")
            #expect(result.standardOutput.contains("USAGE:"), "\(command)")
        }
    }
}
