import Foundation
import ReleaseChannelTestSupport
import Testing

/// `release-chan db generate`, the deterministic db every benchmark uses, on real files.
@Suite struct GenerateCommandTests {
    func run(_ arguments: [String]) async throws -> Subprocess.Result {
        try await Subprocess.run(Fixtures.executable.path, arguments)
    }

    /// The same seed gives the same bytes, another seed another db; what it writes passes `db validate`.
    @Test func writesTheSameValidDbForTheSameSeed() async throws {
        let directory = try TemporaryDirectory()
        for (name, seed) in [("a.json", "7"), ("b.json", "7"), ("c.json", "8")] {
            let result = try await self.run(["db", "generate", "--containers", "25", "--seed", seed, "--output", directory.file(name)])
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardError.hasPrefix("\(directory.file(name)): 75 releases, revision "))
        }
        let a = try Data(contentsOf: URL(fileURLWithPath: directory.file("a.json")))
        #expect(a == (try Data(contentsOf: URL(fileURLWithPath: directory.file("b.json")))))
        #expect(a != (try Data(contentsOf: URL(fileURLWithPath: directory.file("c.json")))))

        let validated = try await self.run(["db", "validate", directory.file("a.json")])
        #expect(validated.status == 0, "\(validated.standardError)")
        #expect(validated.standardOutput.contains(", 75 releases, 25 containers)"))
        let formatted = try await self.run(["db", "fmt", "--check", directory.file("a.json")])
        #expect(formatted.status == 0, "a generated db is in canonical form: \(formatted.standardError)")

        // Realistic records: every release has a digest and a source, and an image of its container.
        let document = try #require(try JSONSerialization.jsonObject(with: a) as? [String: Any])
        #expect(document["channels"] as? [String] == ["dev", "stage", "prod"])
        let releases = try #require(document["releases"] as? [[String: Any]])
        #expect(releases.count == 75)
        for release in releases {
            let container = try #require(release["container"] as? String)
            #expect((release["image"] as? String)?.contains("/\(container):") == true, "\(release)")
            #expect((release["digest"] as? String)?.hasPrefix("sha256:") == true)
            #expect((release["source"] as? [String: Any])?["repository"] as? String != nil)
        }
    }

    @Test func writesToStandardOutputWithTheChannelsGiven() async throws {
        let result = try await self.run(["db", "generate", "--containers", "2", "--channels", "canary,live"])
        #expect(result.status == 0, "\(result.standardError)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect(document["channels"] as? [String] == ["canary", "live"])
        #expect((document["releases"] as? [Any])?.count == 4)
    }

    /// Options that would make an invalid db are usage errors (status 2) that say which and why, and
    /// nothing is written.
    @Test(arguments: [
        (["--containers", "0"], "--containers must be between 1 and 10000000"),
        (["--containers", "2", "--channels", "dev,Bad"], "--channels: channel name \"Bad\""),
        (["--containers", "2", "--channels", "dev,dev"], "--channels: channel \"dev\" is listed twice"),
        (["--containers", "2", "--channels", "dev,,prod"], "--channels: channel name must not be empty"),
        (["--containers", "2", "--channels", ""], "--channels: channel name must not be empty"),
        (["--containers", "2", "--channels", (1...17).map { "c\($0)" }.joined(separator: ",")], "--channels: must list between 1 and 16 channels, found 17"),
    ])
    func refusesOptionsThatMakeAnInvalidDb(options: [String], message: String) async throws {
        let directory = try TemporaryDirectory()
        let result = try await self.run(["db", "generate", "--output", directory.file("db.json")] + options)
        #expect(result.status == 2)
        #expect(result.standardError.contains(message), "\(result.standardError)")
        #expect(!FileManager.default.fileExists(atPath: directory.file("db.json")))
    }

    /// A db over --max-db-bytes (by default the server's 256 MiB) is not written: 180000 containers had
    /// written 277 MB that `db validate` and the server then refused.
    @Test func refusesADbOverTheSizeLimit() async throws {
        let directory = try TemporaryDirectory()
        let output = directory.file("db.json")
        let result = try await self.run(["db", "generate", "--containers", "100", "--max-db-bytes", "16KiB", "--output", output])
        #expect(result.status == 1)
        #expect(result.standardError.contains("over the limit of 16384 bytes (--max-db-bytes; serve takes the same option): nothing written"), "\(result.standardError)")
        #expect(!FileManager.default.fileExists(atPath: output))
        let validate = try await self.run(["db", "validate", Fixtures.repositoryRoot.appendingPathComponent("db/db.json").path, "--max-db-bytes", "1K"])
        #expect(validate.status == 1)
        #expect(validate.standardError.contains("over the limit of 1024 bytes (--max-db-bytes)"), "\(validate.standardError)")
    }

    @Test func reportsAnOutputItCannotWrite() async throws {
        let directory = try TemporaryDirectory()
        let result = try await self.run(["db", "generate", "--containers", "1", "--output", directory.file("missing/db.json")])
        #expect(result.status == 4)
        #expect(result.standardError == "\(directory.file("missing/db.json")): create a temporary file beside it failed: No such file or directory\n")
    }
}
