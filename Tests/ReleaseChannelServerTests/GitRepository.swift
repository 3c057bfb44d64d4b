import ReleaseChannelTestSupport
import Foundation

/// Real git repositories for the GitOps tests: a bare "GitHub" and clones that act as workflow runners.
struct GitRepository {
    let directory: TemporaryDirectory
    let bare: String

    /// A bare repository whose `main` holds `db/db.json` with `database`.
    init(database: [UInt8]) async throws {
        self.directory = try TemporaryDirectory()
        self.bare = self.directory.file("origin.git")
        try await Self.git(["init", "--quiet", "--bare", "--initial-branch=main", self.bare])
        let seed = self.directory.file("seed")
        try await Self.git(["init", "--quiet", "--initial-branch=main", seed])
        try await Self.git(["-C", seed, "remote", "add", "origin", self.bare])
        try FileManager.default.createDirectory(atPath: "\(seed)/db", withIntermediateDirectories: true)
        try Fixtures.write(database, to: "\(seed)/db/db.json")
        try await Self.git(["-C", seed, "add", "db/db.json"])
        try await Self.git(["-C", seed, "commit", "--quiet", "-m", "seed db"])
        try await Self.git(["-C", seed, "push", "--quiet", "origin", "HEAD:refs/heads/main"])
    }

    /// A new clone of `main` in its own directory.
    func clone(_ name: String) async throws -> String {
        let path = self.directory.file(name)
        try await Self.git(["clone", "--quiet", "--branch", "main", self.bare, path])
        try await Self.git(["-C", path, "config", "user.name", "test"])
        try await Self.git(["-C", path, "config", "user.email", "test@example.com"])
        return path
    }

    /// `git log` of main in the bare repository, newest first.
    func log(_ format: String = "%H %P %s") async throws -> [String] {
        try await Self.git(["--git-dir", self.bare, "log", "--format=\(format)", "main"]).split(separator: "\n").map(String.init)
    }

    /// The db on main.
    func database() async throws -> String {
        try await Self.git(["--git-dir", self.bare, "show", "main:db/db.json"])
    }

    @discardableResult
    static func git(_ arguments: [String]) async throws -> String {
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_AUTHOR_NAME"] = "test"
        environment["GIT_AUTHOR_EMAIL"] = "test@example.com"
        environment["GIT_COMMITTER_NAME"] = "test"
        environment["GIT_COMMITTER_EMAIL"] = "test@example.com"
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        let result = try await Subprocess.run("/usr/bin/git", arguments, environment: environment)
        guard result.status == 0 else { throw TestFailure("git \(arguments.joined(separator: " ")) failed: \(result.standardError)") }
        return result.standardOutput
    }
}

/// Runs `scripts/apply-dispatch.sh` in a clone with a payload given as environment variables.
func applyDispatch(in clone: String, payload: [String: String]) async throws -> Subprocess.Result {
    var environment = ProcessInfo.processInfo.environment
    environment["RELEASE_CHAN_BIN"] = Fixtures.executable.path
    environment["RC_MAX_ATTEMPTS"] = "40"
    environment["RC_BACKOFF_BASE"] = "0.05"
    environment["RC_BACKOFF_CAP"] = "0.5"
    environment["GIT_CONFIG_NOSYSTEM"] = "1"
    environment.removeValue(forKey: "GITHUB_STEP_SUMMARY")
    environment.removeValue(forKey: "GITHUB_OUTPUT")
    for (key, value) in payload { environment[key] = value }
    let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/apply-dispatch.sh").path
    return try await Subprocess.run("/bin/bash", [script], environment: environment, currentDirectory: clone)
}
