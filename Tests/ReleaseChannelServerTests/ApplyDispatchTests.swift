import ReleaseChannelTestSupport
import Foundation
import ReleaseChannelModel
import Testing

/// `scripts/apply-dispatch.sh` against real git: concurrency, ordering, idempotence, hostile payloads.
@Suite struct ApplyDispatchTests {
    static func payload(container: String, image: String, runID: Int? = nil, channel: String = "dev") -> [String: String] {
        var payload = ["RC_CONTAINER": container, "RC_CHANNEL": channel, "RC_IMAGE": image, "RC_SOURCE_REPOSITORY": "acme/\(container)"]
        if let runID { payload["RC_RUN_ID"] = String(runID) }
        return payload
    }

    @Test func twentyConcurrentUpdatesAllLandInALinearHistory() async throws {
        let repository = try await GitRepository(database: Fixtures.bytes(containers: 2))
        var clones: [String] = []
        for index in 0..<20 { clones.append(try await repository.clone("runner-\(index)")) }
        let results = try await withThrowingTaskGroup(of: (Int, Subprocess.Result).self) { group in
            for (index, clone) in clones.enumerated() {
                group.addTask {
                    (index, try await applyDispatch(in: clone, payload: Self.payload(container: "svc-\(index)", image: "ghcr.io/acme/svc-\(index):v1", runID: 100 + index)))
                }
            }
            var results: [(Int, Subprocess.Result)] = []
            for try await result in group { results.append(result) }
            return results
        }
        for (index, result) in results {
            #expect(result.status == 0, "run \(index): \(result.standardError.suffix(500))")
        }
        let log = try await repository.log()
        #expect(log.count == 21, "20 updates + the seed commit")
        #expect(log.allSatisfy { $0.split(separator: " ").count >= 2 && !$0.contains("Merge") }, "linear: \(log)")
        // Each commit has exactly one parent except the root.
        let parents = try await repository.log("%P")
        #expect(parents.dropLast().allSatisfy { $0.split(separator: " ").count == 1 })
        let database = try DatabaseDecoder.decode(Array(try await repository.database().utf8))
        for index in 0..<20 {
            #expect(database.release(container: "svc-\(index)", channel: "dev")?.image == "ghcr.io/acme/svc-\(index):v1")
        }
        #expect(database.release(container: "my-app", channel: "prod") != nil, "nothing already stored is lost")
    }

    /// A push whose answer is lost (the remote took the commit, git reported an error) ends `changed`
    /// with that commit, so that publish still runs for it; the retry had ended `unchanged`. The first
    /// `git push` goes through a wrapper that pushes, then reports the failure a dropped connection gives.
    @Test func aPushThatLandedButReportedAnErrorEndsChanged() async throws {
        let repository = try await GitRepository(database: Fixtures.bytes(containers: 1))
        let clone = try await repository.clone("runner")
        let tools = try TemporaryDirectory()
        let mark = tools.file("push-answered")
        let wrapper = """
            #!/bin/bash
            if [ "$1" = push ] && [ ! -e '\(mark)' ]; then
                touch '\(mark)'
                /usr/bin/git "$@" >/dev/null 2>&1 || exit 1
                echo "fatal: the remote end hung up unexpectedly" >&2
                exit 128
            fi
            exec /usr/bin/git "$@"

            """
        // Written by a shell, not by this process: a file this multi-threaded process holds open for
        // writing is inherited by any child another test spawns meanwhile, and running it then fails
        // with ETXTBSY ("text file busy"), which had refused the payload once in a full run.
        let written = try await Subprocess.run("/bin/sh", ["-c", #"printf '%s' "$2" > "$1" && chmod 755 "$1""#, "sh", tools.file("git"), wrapper])
        #expect(written.status == 0, "\(written.standardError)")
        let outputs = tools.file("outputs")
        var payload = Self.payload(container: "my-app", image: "ghcr.io/acme/my-app:v9", runID: 90)
        payload["PATH"] = "\(tools.path):" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        payload["GITHUB_OUTPUT"] = outputs
        let result = try await applyDispatch(in: clone, payload: payload)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(FileManager.default.fileExists(atPath: mark), "the wrapper was not used")
        let log = try await repository.log("%H")
        #expect(log.count == 2, "one commit, pushed once")
        let lines = String(decoding: try Data(contentsOf: URL(fileURLWithPath: outputs)), as: UTF8.self).split(separator: "\n")
        #expect(lines.contains("result=changed"), "\(lines) \(result.standardError.suffix(1500))")
        #expect(lines.contains("commit=\(log[0])"), "\(lines)")
    }

    @Test func concurrentUpdatesOfOneKeyEndWithTheHighestRunID() async throws {
        let repository = try await GitRepository(database: Fixtures.bytes(containers: 1))
        var clones: [String] = []
        for index in 0..<10 { clones.append(try await repository.clone("runner-\(index)")) }
        let runIDs = Array(1...10).shuffled()
        let results = try await withThrowingTaskGroup(of: Subprocess.Result.self) { group in
            for (clone, runID) in zip(clones, runIDs) {
                group.addTask {
                    try await applyDispatch(in: clone, payload: Self.payload(container: "hot", image: "ghcr.io/acme/hot:build-\(runID)", runID: 1000 + runID))
                }
            }
            var results: [Subprocess.Result] = []
            for try await result in group { results.append(result) }
            return results
        }
        #expect(results.allSatisfy { $0.status == 0 || $0.status == 3 }, "\(results.map { "\($0.status): \($0.standardError.suffix(200))" })")
        let database = try DatabaseDecoder.decode(Array(try await repository.database().utf8))
        #expect(database.release(container: "hot", channel: "dev")?.image == "ghcr.io/acme/hot:build-10")
        #expect(database.release(container: "hot", channel: "dev")?.source?.runID == 1010)
    }

    @Test func replayingAnEventCreatesNoSecondCommit() async throws {
        let repository = try await GitRepository(database: Fixtures.bytes(containers: 1))
        let clone = try await repository.clone("runner")
        let payload = Self.payload(container: "my-app", image: "ghcr.io/acme/my-app:v2", runID: 77)
        let first = try await applyDispatch(in: clone, payload: payload)
        #expect(first.status == 0, "\(first.standardError)")
        let commits = try await repository.log()
        #expect(commits.count == 2)
        #expect(commits[0].contains("release: my-app/dev -> ghcr.io/acme/my-app:v2"))
        let replay = try await applyDispatch(in: clone, payload: payload)
        #expect(replay.status == 0)
        #expect(try await repository.log().count == 2)
        // An older run arriving late is refused.
        let late = try await applyDispatch(in: clone, payload: Self.payload(container: "my-app", image: "ghcr.io/acme/my-app:v1", runID: 76))
        #expect(late.status == 3)
        #expect(try await repository.log().count == 2)
    }

    /// A broken db on main (a hand edit) makes `db set` refuse every update; the script says that it is
    /// main's db, not the update, with the validator's line and field, and exits 6 without a commit.
    @Test func anInvalidDbOnMainIsReportedAsSuch() async throws {
        let invalid = #"{"schema_version":1,"channels":["dev"],"releases":[{"container":"My App","channel":"dev","image":"ghcr.io/acme/my-app:v1"}]}"# + "\n"
        let repository = try await GitRepository(database: Array(invalid.utf8))
        let clone = try await repository.clone("runner")
        let tools = try TemporaryDirectory()
        var payload = Self.payload(container: "my-app", image: "ghcr.io/acme/my-app:v2", runID: 8)
        payload["GITHUB_OUTPUT"] = tools.file("outputs")
        let result = try await applyDispatch(in: clone, payload: payload)
        #expect(result.status == 6, "\(result.status) \(result.standardError.suffix(500))")
        #expect(result.standardError.contains("main's db is invalid"), "\(result.standardError)")
        #expect(result.standardError.contains("db/db.json:1:"), "the validator's line: \(result.standardError)")
        #expect(result.standardError.contains("releases[0].container"), "the validator's field: \(result.standardError)")
        #expect(try await repository.log().count == 1)
        let lines = String(decoding: try Data(contentsOf: URL(fileURLWithPath: tools.file("outputs"))), as: UTF8.self).split(separator: "\n")
        #expect(lines.contains("result=error"), "\(lines)")
    }

    @Test(arguments: [
        ("RC_CONTAINER", "app$(touch /tmp/pwned)"),
        ("RC_CONTAINER", "app`id`"),
        ("RC_CONTAINER", "app; rm -rf /"),
        ("RC_IMAGE", "ghcr.io/acme/app:v1\ninjected: true"),
        ("RC_IMAGE", "ghcr.io/acme/app:\"quoted\""),
        ("RC_CONTAINER", "<10,000 characters>"),
        ("RC_CHANNEL", "qa"),
        ("RC_ACTOR", "bob'; echo hi; '"),
        ("RC_IMAGE", "--force"),
    ])
    func hostilePayloadsAreRefusedWithoutACommit(field: String, value: String) async throws {
        let repository = try await GitRepository(database: Fixtures.bytes(containers: 1))
        let clone = try await repository.clone("runner")
        var payload = Self.payload(container: "my-app", image: "ghcr.io/acme/my-app:v2", runID: 5)
        payload[field] = value == "<10,000 characters>" ? String(repeating: "a", count: 10_000) : value
        let result = try await applyDispatch(in: clone, payload: payload)
        #expect(result.status == 1, "\(field)=\(value.prefix(40)): \(result.status) \(result.standardError.suffix(300))")
        #expect(!result.standardError.isEmpty, "the refusal says why")
        #expect(try await repository.log().count == 1)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/pwned"))
    }
}
