import ReleaseChannelTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ReleaseChannelModel
import Testing

/// `release-chan db set | promote | remove | history` on real files and a real git history.
@Suite struct UpdateCommandTests {
    func run(_ arguments: [String], in directory: String? = nil) async throws -> Subprocess.Result {
        try await Subprocess.run(Fixtures.executable.path, arguments, currentDirectory: directory)
    }

    func database(_ path: String) throws -> ReleaseDatabase {
        try DatabaseDecoder.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    @Test func setCreatesChangesAndLeavesIdenticalValuesAlone() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        try Fixtures.write(Fixtures.bytes(containers: 1), to: path)
        let base = ["db", "set", "--db", path, "--container", "new-svc", "--channel", "stage", "--image", "ghcr.io/acme/new-svc:v1", "--source-repository", "acme/new-svc", "--run-id", "10"]
        let created = try await self.run(base)
        #expect(created.status == 0)
        #expect(created.standardOutput.hasPrefix("changed: new-svc/stage ghcr.io/acme/new-svc:v1 (new)"))
        let written = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(Array(written) == CanonicalEncoder.encode(try self.database(path)), "written in canonical form")
        let modified = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date

        let again = try await self.run(base)
        #expect(again.status == 0)
        #expect(again.standardOutput.hasPrefix("unchanged:"))
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date == modified, "file untouched")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == written)
    }

    /// `db set` of the image already stored, without --digest or a source, keeps the stored ones: it had
    /// replaced them with none, printed "X (was X)", and so turned off the stale guard for the release.
    /// A new source or a new digest is another build: the stored other half is not carried over. A
    /// change of the digest or source alone is printed as such.
    @Test func settingTheStoredImageAgainKeepsItsDigestAndSource() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        try Fixtures.write(Fixtures.bytes(containers: 1), to: path)
        let digest = "sha256:" + String(repeating: "c", count: 64)
        let image = ["db", "set", "--db", path, "--container", "pinned", "--channel", "prod", "--image", "ghcr.io/acme/pinned:v2"]
        let built = try await self.run(image + ["--digest", digest, "--source-repository", "acme/pinned", "--run-id", "20"])
        #expect(built.status == 0, "\(built.standardError)")
        let written = try Data(contentsOf: URL(fileURLWithPath: path))

        let again = try await self.run(image)
        #expect(again.status == 0, "\(again.standardError)")
        #expect(again.standardOutput.hasPrefix("unchanged: pinned/prod ghcr.io/acme/pinned:v2"), "\(again.standardOutput)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == written, "file untouched")
        // The guard still knows run 20.
        let late = try await self.run(["db", "set", "--db", path, "--container", "pinned", "--channel", "prod", "--image", "ghcr.io/acme/pinned:v1", "--source-repository", "acme/pinned", "--run-id", "19"])
        #expect(late.status == 3, "\(late.standardOutput)")

        let rebuilt = try await self.run(image + ["--source-repository", "acme/pinned", "--run-id", "21"])
        #expect(rebuilt.status == 0, "\(rebuilt.standardError)")
        #expect(rebuilt.standardOutput.hasPrefix("changed: pinned/prod ghcr.io/acme/pinned:v2 (same image; digest none (was \(digest)); source acme/pinned run 21 (was acme/pinned run 20))"), "\(rebuilt.standardOutput)")
        let release = try #require(try self.database(path).release(container: "pinned", channel: "prod"))
        #expect(release.digest == nil, "run 21 is another build: run 20's digest is not its own")
        #expect(release.source?.runID == 21)

        // A digest fixed by hand is another build of the tag: run 21's source does not come with it, so
        // the same-run conflict does not refuse it (it did once the source was carried over).
        let fixed = "sha256:" + String(repeating: "d", count: 64)
        let byHand = try await self.run(image + ["--digest", fixed])
        #expect(byHand.status == 0, "\(byHand.standardError)")
        #expect(byHand.standardOutput.contains("same image; digest \(fixed) (was none); source none (was acme/pinned run 21)"), "\(byHand.standardOutput)")
        let after = try #require(try self.database(path).release(container: "pinned", channel: "prod"))
        #expect(after.digest == fixed)
        #expect(after.source == nil)
    }

    /// No update writes a db larger than --max-db-bytes (the server's limit, by flag or by
    /// RELEASE_CHAN_MAX_DB_BYTES): it had written one with exit 0 that the server then refused.
    @Test func noUpdateWritesADbOverTheLimit() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        try Fixtures.write(Fixtures.bytes(containers: 1), to: path)
        let size = Fixtures.bytes(containers: 1).count
        let set = ["db", "set", "--db", path, "--container", "one-more", "--channel", "dev", "--image", "ghcr.io/acme/one-more:v1"]
        let refused = try await self.run(set + ["--max-db-bytes", String(size + 20)])
        #expect(refused.status == 1)
        #expect(refused.standardError.contains("\(path): the updated db would be "), "\(refused.standardError)")
        #expect(refused.standardError.contains("over the limit of \(size + 20) bytes (--max-db-bytes): nothing written"), "\(refused.standardError)")
        var environment = ProcessInfo.processInfo.environment
        environment["RELEASE_CHAN_MAX_DB_BYTES"] = String(size + 20)
        let byVariable = try await Subprocess.run(Fixtures.executable.path, set, environment: environment)
        #expect(byVariable.status == 1, "\(byVariable.standardOutput)")
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == Fixtures.bytes(containers: 1), "nothing written")

        // A file already over the limit is not read.
        let over = try await self.run(["db", "remove", "--db", path, "--container", "my-app", "--max-db-bytes", String(size - 1)])
        #expect(over.status == 1)
        #expect(over.standardError.contains("the file is \(size) bytes, over the limit of \(size - 1) bytes (--max-db-bytes)"), "\(over.standardError)")
        let typo = try await self.run(set + ["--max-db-bytes", "lots"])
        #expect(typo.status == 2)
        #expect(typo.standardError.contains("--max-db-bytes has an invalid value \"lots\""), "\(typo.standardError)")
        #expect(try await self.run(set + ["--max-db-bytes", "1MiB"]).status == 0)

        // `db fmt` of a compact file under the limit whose indented canonical form is over it.
        let compact = directory.file("compact.json")
        let object = try JSONSerialization.jsonObject(with: Data(Fixtures.bytes(containers: 3)))
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: compact))
        let compactBytes = try Data(contentsOf: URL(fileURLWithPath: compact))
        let format = try await self.run(["db", "fmt", compact, "--max-db-bytes", String(compactBytes.count)])
        #expect(format.status == 1)
        #expect(format.standardError.contains("\(compact): the canonical form would be \(Fixtures.bytes(containers: 3).count) bytes, over the limit of \(compactBytes.count) bytes"), "\(format.standardError)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: compact)) == compactBytes, "nothing written")
    }

    /// A writer that finds the lock held says so on standard error and gives up after --lock-timeout with
    /// exit 4, writing nothing: it had waited without a word, for as long as the lock was held.
    @Test func aHeldLockIsAnnouncedAndTimesOut() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        try Fixtures.write(Fixtures.bytes(containers: 1), to: path)
        let holder = open("\(path).lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        #expect(holder >= 0)
        defer { close(holder) }
        #expect(flock(holder, LOCK_EX) == 0)
        for arguments in [
            ["db", "set", "--db", path, "--container", "blocked", "--channel", "dev", "--image", "ghcr.io/acme/blocked:v1", "--lock-timeout", "0.3"],
            ["db", "fmt", path, "--lock-timeout", "0.3"],
        ] {
            let result = try await self.run(arguments)
            #expect(result.status == 4, "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains("waiting for \(path).lock: another update of this db is running"), "\(result.standardError)")
            #expect(result.standardError.contains("\(path).lock: still held by another writer after 0.3 s; nothing written"), "\(result.standardError)")
        }
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == Fixtures.bytes(containers: 1))
        let usage = try await self.run(["db", "remove", "--db", path, "--container", "my-app", "--lock-timeout", "0"])
        #expect(usage.status == 2)
        #expect(usage.standardError.contains("--lock-timeout must be a number of seconds from 0.01 to 3600, not 0.0"), "\(usage.standardError)")
    }

    /// A db path that is a symlink is written through: the file it points to changes and the link stays
    /// (a rename onto the link had replaced it with a file and left the target, which a server or git
    /// follows, unchanged). The same for `db fmt`.
    @Test func aSymlinkedDbIsUpdatedThroughTheLink() async throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.file("real"), withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: directory.file("link"), withIntermediateDirectories: false)
        let target = directory.file("real/db.json")
        let link = directory.file("link/db.json")
        try Fixtures.write(Fixtures.bytes(containers: 1), to: target)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let set = try await self.run(["db", "set", "--db", link, "--container", "via-link", "--channel", "dev", "--image", "ghcr.io/acme/via-link:v1"])
        #expect(set.status == 0, "\(set.standardError)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target, "the link stays a link")
        #expect(try self.database(target).release(container: "via-link", channel: "dev")?.image == "ghcr.io/acme/via-link:v1")

        // Not canonical (indented by a tab), then formatted through the link.
        let text = String(decoding: Fixtures.bytes(containers: 1), as: UTF8.self).replacingOccurrences(of: "\n  ", with: "\n\t")
        try Fixtures.write(Array(text.utf8), to: target)
        let format = try await self.run(["db", "fmt", link])
        #expect(format.status == 0, "\(format.standardError)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: target))) == Fixtures.bytes(containers: 1))
    }

    @Test func staleRunsAreRefusedUnlessForced() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        try Fixtures.write(Fixtures.bytes(containers: 1), to: path)
        func set(_ image: String, run: Int, _ extra: [String] = []) async throws -> Subprocess.Result {
            try await self.run(["db", "set", "--db", path, "--container", "my-app", "--channel", "dev", "--image", image, "--source-repository", "acme/app-0", "--run-id", String(run)] + extra)
        }
        #expect(try await set("ghcr.io/acme/my-app:v5", run: 50).status == 0)
        let stale = try await set("ghcr.io/acme/my-app:v4", run: 40)
        #expect(stale.status == 3)
        #expect(stale.standardError.contains("run_id 40 is older than the stored run_id 50"))
        let conflict = try await set("ghcr.io/acme/my-app:v6", run: 50)
        #expect(conflict.status == 3)
        #expect(try self.database(path).release(container: "my-app", channel: "dev")?.image == "ghcr.io/acme/my-app:v5")
        let forced = try await set("ghcr.io/acme/my-app:v4", run: 40, ["--force"])
        #expect(forced.status == 0)
        #expect(try self.database(path).release(container: "my-app", channel: "dev")?.image == "ghcr.io/acme/my-app:v4")
        // The same repository spelt in other case is the same repository (GitHub's names are case-insensitive).
        let respelt = try await self.run(["db", "set", "--db", path, "--container", "my-app", "--channel", "dev", "--image", "ghcr.io/acme/my-app:v3", "--source-repository", "ACME/App-0", "--run-id", "30"])
        #expect(respelt.status == 3, "\(respelt.standardError)")
        #expect(try self.database(path).release(container: "my-app", channel: "dev")?.image == "ghcr.io/acme/my-app:v4")
        // Another repository's run ids do not order this one's.
        let other = try await self.run(["db", "set", "--db", path, "--container", "my-app", "--channel", "dev", "--image", "ghcr.io/acme/my-app:v7", "--source-repository", "acme/other", "--run-id", "1"])
        #expect(other.status == 0)
    }

    @Test(arguments: [
        (["--container", "Bad_Name"], "--container"),
        (["--channel", "qa"], "--channel"),
        (["--image", "ghcr.io/Acme/app"], "--image"),
        (["--image", "app:v1 ; rm -rf /"], "--image"),
        (["--digest", "sha256:123"], "--digest"),
        (["--image", "app@sha256:\(String(repeating: "a", count: 64))", "--digest", "sha256:\(String(repeating: "b", count: 64))"], "--digest"),
        (["--source-repository", "not a repo"], "--source-repository"),
        (["--source-sha", "abc"], "--source-sha"),
        (["--source-ref", "main"], "--source-ref"),
        (["--run-id", "0"], "--run-id"),
        (["--actor", "$(id)"], "--actor"),
        (["--updated-at", "yesterday"], "--updated-at"),
    ])
    func invalidValuesAreRefusedAndNameTheField(override: [String], field: String) async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        try Fixtures.write(Fixtures.bytes(containers: 1), to: path)
        var values = ["--container": "my-app", "--channel": "dev", "--image": "ghcr.io/acme/my-app:v2"]
        var index = 0
        while index + 1 < override.count {
            values[override[index]] = override[index + 1]
            index += 2
        }
        let arguments = ["db", "set", "--db", path] + values.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] }
        let result = try await self.run(arguments)
        #expect(result.status == 1, "\(result.standardError)")
        #expect(result.standardError.contains(field), "\(result.standardError)")
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == Fixtures.bytes(containers: 1), "nothing written")
    }

    /// One run cannot set one image with two digests; the refusal names the digests, not the image twice.
    @Test func aConflictingDigestIsNamed() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        try Fixtures.write(Fixtures.bytes(containers: 1), to: path)
        func set(digest: String) async throws -> Subprocess.Result {
            try await self.run(["db", "set", "--db", path, "--container", "my-app", "--channel", "dev", "--image", "ghcr.io/acme/my-app:v5", "--digest", digest, "--source-repository", "acme/app-0", "--run-id", "50"])
        }
        let first = "sha256:" + String(repeating: "a", count: 64)
        let second = "sha256:" + String(repeating: "b", count: 64)
        #expect(try await set(digest: first).status == 0)
        let conflict = try await set(digest: second)
        #expect(conflict.status == 3)
        #expect(conflict.standardError.contains("ghcr.io/acme/my-app:v5 with digest \(first), not \(second)"), "\(conflict.standardError)")
    }

    /// `db set` on a db that is already invalid prints its problems exactly as `db validate` does
    /// (file:line:column: path: message), so that one parser reads both.
    @Test func anInvalidDatabaseIsReportedAsDbValidateReportsIt() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        let text = String(decoding: Fixtures.bytes(containers: 1), as: UTF8.self)
        let broken = try #require(text.range(of: "ghcr.io/acme/"))
        try Fixtures.write(Array(text.replacingCharacters(in: broken, with: "ghcr.io/Acme/").utf8), to: path)
        let validate = try await self.run(["db", "validate", path])
        #expect(validate.status == 1)
        #expect(validate.standardError.hasPrefix("\(path):"), "\(validate.standardError)")
        #expect(validate.standardError.contains("releases[0].image"), "\(validate.standardError)")
        let set = try await self.run(["db", "set", "--db", path, "--container", "my-app", "--channel", "dev", "--image", "ghcr.io/acme/my-app:v2"])
        #expect(set.status == 1)
        #expect(set.standardError == validate.standardError)
    }

    @Test func missingRequiredOptionsAreUsageErrors() async throws {
        let result = try await self.run(["db", "set", "--container", "my-app"])
        #expect(result.status == 2)
    }

    @Test func promoteAndRemove() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        var database = Fixtures.database(containers: 2)
        database.remove(container: "app-1", channel: "stage")
        try Fixtures.write(CanonicalEncoder.encode(database), to: path)
        let promote = try await self.run(["db", "promote", "--db", path, "--container", "my-app", "--from", "dev", "--to", "prod"])
        #expect(promote.status == 0)
        let promoted = try #require(try self.database(path).release(container: "my-app", channel: "prod"))
        let dev = try #require(try self.database(path).release(container: "my-app", channel: "dev"))
        #expect(promoted.image == dev.image)
        #expect(promoted.digest == dev.digest)
        #expect(promoted.source == dev.source)
        #expect(try await self.run(["db", "promote", "--db", path, "--container", "my-app", "--from", "dev", "--to", "prod"]).standardOutput.hasPrefix("unchanged"))
        let nothing = try await self.run(["db", "promote", "--db", path, "--container", "app-1", "--from", "stage", "--to", "prod"])
        #expect(nothing.status == 1)
        #expect(nothing.standardError.contains("no release on channel \"stage\""))

        let removeOne = try await self.run(["db", "remove", "--db", path, "--container", "app-1", "--channel", "dev"])
        #expect(removeOne.status == 0)
        #expect(try self.database(path).release(container: "app-1", channel: "dev") == nil)
        #expect(try self.database(path).release(container: "app-1", channel: "prod") != nil)
        let removeAll = try await self.run(["db", "remove", "--db", path, "--container", "app-1"])
        #expect(removeAll.standardOutput.contains("removed: app-1/prod"))
        #expect(try self.database(path).releases.allSatisfy { $0.container != "app-1" })
        let again = try await self.run(["db", "remove", "--db", path, "--container", "app-1"])
        #expect(again.status == 0)
        #expect(again.standardOutput.contains("nothing to remove"))
    }

    @Test func concurrentSetsOnOneFileSerialize() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        try Fixtures.write(Fixtures.bytes(containers: 1), to: path)
        let results = try await withThrowingTaskGroup(of: Int32.self) { group in
            for index in 0..<12 {
                group.addTask {
                    try await self.run(["db", "set", "--db", path, "--container", "svc-\(index)", "--channel", "dev", "--image", "ghcr.io/acme/svc-\(index):v1"]).status
                }
            }
            var statuses: [Int32] = []
            for try await status in group { statuses.append(status) }
            return statuses
        }
        #expect(results.allSatisfy { $0 == 0 })
        let database = try self.database(path)
        #expect((0..<12).allSatisfy { database.release(container: "svc-\($0)", channel: "dev") != nil }, "no update lost")
    }

    /// Writers that reach one db by a symlink and by its own path take one lock: the lock is taken at the
    /// file that is written. Each had locked `PATH.lock` of the path it was given, two locks for one file,
    /// and about half the updates were lost.
    @Test func concurrentSetsThroughALinkAndThePathSerialize() async throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.file("real"), withIntermediateDirectories: false)
        let target = directory.file("real/db.json")
        let link = directory.file("link.json")
        try Fixtures.write(Fixtures.bytes(containers: 1), to: target)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "real/db.json")
        let results = try await withThrowingTaskGroup(of: Int32.self) { group in
            for index in 0..<12 {
                group.addTask {
                    let path = index.isMultiple(of: 2) ? link : target
                    return try await self.run(["db", "set", "--db", path, "--container", "svc-\(index)", "--channel", "dev", "--image", "ghcr.io/acme/svc-\(index):v1"]).status
                }
            }
            var statuses: [Int32] = []
            for try await status in group { statuses.append(status) }
            return statuses
        }
        #expect(results.allSatisfy { $0 == 0 })
        let database = try self.database(target)
        let lost = (0..<12).filter { database.release(container: "svc-\($0)", channel: "dev") == nil }
        #expect(lost.isEmpty, "updates lost: \(lost)")
    }

    /// A rewritten db keeps its mode whatever the writer's umask (open(2)'s mode went through it: 640 under
    /// umask 077 became 600, and a group that could read the db no longer could).
    @Test func aRewrittenDbKeepsItsMode() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        try Fixtures.write(Fixtures.bytes(containers: 1), to: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        let set = try await Subprocess.run(
            "/bin/sh",
            ["-c", "umask 077 && exec \"$0\" db set --db \"$1\" --container kept --channel dev --image ghcr.io/acme/kept:v1", Fixtures.executable.path, path]
        )
        #expect(set.status == 0, "\(set.standardError)")
        #expect(try self.database(path).release(container: "kept", channel: "dev") != nil)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o640, "mode \(String(mode ?? 0, radix: 8))")
    }

    @Test func historyReadsTheGitLog() async throws {
        let repository = try await GitRepository(database: Fixtures.bytes(containers: 1))
        let clone = try await repository.clone("work")
        for (image, author) in [("ghcr.io/acme/my-app:v2", "alice"), ("ghcr.io/acme/my-app:v3", "bob")] {
            let set = try await self.run(["db", "set", "--db", "db/db.json", "--container", "my-app", "--channel", "dev", "--image", image], in: clone)
            #expect(set.status == 0)
            try await GitRepository.git(["-C", clone, "commit", "--quiet", "--author", "\(author) <\(author)@example.com>", "-am", "release my-app \(image)"])
        }
        let history = try await self.run(["db", "history", "--db", "\(clone)/db/db.json", "my-app", "dev"])
        #expect(history.status == 0, "\(history.standardError)")
        let lines = history.standardOutput.split(separator: "\n")
        #expect(lines.count == 3, "\(history.standardOutput)")
        #expect(lines[0].contains("bob  dev  ghcr.io/acme/my-app:v3 (was ghcr.io/acme/my-app:v2)"))
        #expect(lines[1].contains("alice  dev  ghcr.io/acme/my-app:v2 (was ghcr.io/acme/app-0:v1-dev)"))
        #expect(lines[2].contains("dev  ghcr.io/acme/app-0:v1-dev (new)"))
    }

    /// `db history` reads a symlinked db's target, names a commit whose db is invalid, and says why it
    /// shows nothing: each of these had printed "no changes" with exit 0.
    @Test func historyFollowsALinkAndSaysWhyItShowsNothing() async throws {
        let repository = try await GitRepository(database: Fixtures.bytes(containers: 1))
        let clone = try await repository.clone("work")
        let set = try await self.run(["db", "set", "--db", "db/db.json", "--container", "my-app", "--channel", "prod", "--image", "ghcr.io/acme/my-app:v2"], in: clone)
        #expect(set.status == 0)
        try await GitRepository.git(["-C", clone, "commit", "--quiet", "-am", "release my-app v2"])
        try Fixtures.write(Array("{".utf8), to: "\(clone)/db/db.json")
        try await GitRepository.git(["-C", clone, "commit", "--quiet", "-am", "broken"])
        try Fixtures.write(Fixtures.bytes(containers: 1), to: "\(clone)/db/db.json")
        try await GitRepository.git(["-C", clone, "commit", "--quiet", "-am", "fixed"])
        let broken = try await GitRepository.git(["-C", clone, "rev-parse", "--short=8", "HEAD~1"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let link = "\(clone)/current.json"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "db/db.json")

        let history = try await self.run(["db", "history", "--db", link, "my-app", "prod"])
        #expect(history.status == 0, "\(history.standardError)")
        let lines = history.standardOutput.split(separator: "\n")
        #expect(lines.count == 3, "\(history.standardOutput)")
        #expect(lines[0].contains("prod  ghcr.io/acme/app-0:v1-prod (was ghcr.io/acme/my-app:v2)  — fixed"), "\(history.standardOutput)")
        #expect(history.standardError.contains("skipped 1 commits whose db is not valid: \(broken)"), "\(history.standardError)")

        let channel = try await self.run(["db", "history", "--db", link, "my-app", "qa"])
        #expect(channel.status == 1)
        #expect(channel.standardError.contains("unknown channel \"qa\" (channels in the last 4 commits: dev, prod, stage)"), "\(channel.standardError)")
        let container = try await self.run(["db", "history", "--db", link, "no-such-app"])
        #expect(container.status == 1)
        #expect(container.standardError.contains("container \"no-such-app\" has no release in the last 4 commits of \(link)"), "\(container.standardError)")
        let missing = try await self.run(["db", "history", "--db", "\(clone)/db/none.json", "my-app"])
        #expect(missing.status == 4)
        #expect(missing.standardError.contains("none.json: no such file, and no commit of its git repository has one"), "\(missing.standardError)")
        try Fixtures.write(Fixtures.bytes(containers: 1), to: "\(clone)/db/untracked.json")
        let untracked = try await self.run(["db", "history", "--db", "\(clone)/db/untracked.json", "my-app"])
        #expect(untracked.status == 4)
        #expect(untracked.standardError.contains("untracked.json: no commit of its git repository has this file"), "\(untracked.standardError)")
    }
}
