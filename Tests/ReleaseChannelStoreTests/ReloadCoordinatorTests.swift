import ReleaseChannelTestSupport
import Foundation
import ReleaseChannelModel
import Testing

@testable import ReleaseChannelStore

@Suite struct ReloadCoordinatorTests {
    /// Runs a coordinator over a real file for the duration of `body`.
    func withCoordinator(
        initial: [UInt8],
        maximumBytes: Int = DatabaseFile.defaultMaximumBytes,
        _ body: (ReloadCoordinator, String) async throws -> Void
    ) async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        try Fixtures.write(initial, to: path)
        let coordinator = ReloadCoordinator(
            file: DatabaseFile(path: path, maximumBytes: maximumBytes),
            store: SnapshotStore(),
            logger: Fixtures.logger,
            metrics: Fixtures.metrics
        )
        try coordinator.loadInitial()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await coordinator.run() }
            try await body(coordinator, path)
            group.cancelAll()
        }
    }

    /// Once the coordinator has stopped (the server is shutting down), a reload is refused at once with
    /// nil, which HTTP answers with 503, rather than waiting for a build that never comes.
    @Test func aReloadAfterShutdownIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        try Fixtures.write(Fixtures.bytes(containers: 2), to: path)
        let coordinator = ReloadCoordinator(file: DatabaseFile(path: path), store: SnapshotStore(), logger: Fixtures.logger, metrics: Fixtures.metrics)
        try coordinator.loadInitial()
        let running = Task { await coordinator.run() }
        #expect(await coordinator.reload(trigger: .api) != nil)
        running.cancel()
        await running.value
        #expect(await coordinator.reload(trigger: .api) == nil)
    }

    @Test func loadsChangesAndIgnoresIdenticalContent() async throws {
        try await self.withCoordinator(initial: Fixtures.bytes(containers: 2)) { coordinator, path in
            let first = try #require(coordinator.store.current)
            let unchanged = try #require(await coordinator.reload(trigger: .api))
            #expect(unchanged.result == .unchanged)
            #expect(coordinator.store.current === first)

            // Same content, different formatting: still the same revision.
            let compact = String(decoding: Fixtures.bytes(containers: 2), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
            try Fixtures.write(Array(compact.utf8), to: path)
            #expect(await coordinator.reload(trigger: .api)?.result == .unchanged)

            try Fixtures.write(Fixtures.bytes(containers: 2, tag: "v2"), to: path)
            let changed = try #require(await coordinator.reload(trigger: .api))
            #expect(changed.result == .changed)
            #expect(changed.revision != first.revision)
            #expect(coordinator.store.current?.release(container: "my-app", channel: "dev")?.image == "ghcr.io/acme/app-0:v2-dev")
            #expect(coordinator.status.succeeded == 4)
        }
    }

    /// A reload of a file with one release changed takes the rest over from the served snapshot; one
    /// that the loader decoded (not canonical) leaves nothing to take over, and the next reload reads all.
    @Test func aReloadTakesOverTheUnchangedReleasesOfTheServedSnapshot() async throws {
        let database = DatabaseGenerator(containers: 1_000, seed: 21).generate()
        try await self.withCoordinator(initial: CanonicalEncoder.encode(database)) { coordinator, path in
            var releases = database.releases
            releases[10].image += "-hotfix"
            try Fixtures.write(CanonicalEncoder.encode(ReleaseDatabase(channels: database.channels, releases: releases)), to: path)
            #expect(await coordinator.reload(trigger: .api)?.result == .changed)
            let carried = try #require(coordinator.store.current)
            #expect((carried.carryover?.copiedContainers ?? 0) > carried.containerCount / 2)
            #expect(carried.release(container: releases[10].container, channel: releases[10].channel)?.image == releases[10].image)
            #expect(carried.release(container: releases[11].container, channel: releases[11].channel)?.image == releases[11].image)

            // Not canonical (a space before the final newline): decoded, nothing kept for the next reload.
            releases[20].image += "-hotfix"
            try Fixtures.write(CanonicalEncoder.encode(ReleaseDatabase(channels: database.channels, releases: releases)).dropLast() + Array(" \n".utf8), to: path)
            #expect(await coordinator.reload(trigger: .api)?.result == .changed)
            #expect(coordinator.store.current?.carryover == nil)
            releases[30].image += "-hotfix"
            try Fixtures.write(CanonicalEncoder.encode(ReleaseDatabase(channels: database.channels, releases: releases)), to: path)
            #expect(await coordinator.reload(trigger: .api)?.result == .changed)
            let read = try #require(coordinator.store.current)
            #expect(read.carryover?.copiedContainers == 0)
            for release in releases {
                #expect(read.release(container: release.container, channel: release.channel)?.image == release.image)
            }
        }
    }

    @Test func buildsRunOnAThreadWithLowerPriority() async throws {
        try await self.withCoordinator(initial: Fixtures.bytes(containers: 2)) { coordinator, _ in
            #expect(await coordinator.reload(trigger: .api) != nil)
            // Field 19 of /proc/self/task/<tid>/stat is the thread's nice value; nothing else here sets one.
            let niceValues = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").compactMap { task -> Int? in
                guard let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8),
                    let end = stat.lastIndex(of: ")")
                else { return nil }
                let fields = stat[stat.index(after: end)...].split(separator: " ")
                return fields.count > 16 ? Int(fields[16]) : nil
            }
            #expect(niceValues.contains { $0 >= 5 }, "\(niceValues)")
        }
    }

    @Test func theSameBytesAreNotParsedAgain() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        try Fixtures.write(Fixtures.bytes(containers: 2), to: path)
        let file = DatabaseFile(path: path)
        // Canonical bytes are indexed, not decoded.
        guard case .indexed(let contents) = try file.load(unlessFileDigestIs: nil) else { throw TestFailure("not indexed") }
        #expect(contents.fileDigest == DatabaseRevision.fileDigest(of: Fixtures.bytes(containers: 2)))
        #expect(contents.revision == Fixtures.revision(containers: 2, tag: "v1"))
        guard case .sameBytes = try file.load(unlessFileDigestIs: contents.fileDigest) else { throw TestFailure("parsed again") }
        // The same db in another layout (a space before the final newline) is decoded, to the same revision.
        try Fixtures.write(Fixtures.bytes(containers: 2).dropLast() + Array(" \n".utf8), to: path)
        guard case .loaded(let decoded) = try file.load(unlessFileDigestIs: contents.fileDigest) else { throw TestFailure("not decoded") }
        #expect(decoded.revision == contents.revision)
        // Other bytes are parsed (and judged) even when the caller knows a digest.
        try Fixtures.write(Array("{".utf8), to: path)
        #expect(throws: DatabaseLoadError.self) { try file.load(unlessFileDigestIs: contents.fileDigest) }
    }

    @Test func aFailedFileThenTheServedBytesAgainLeavesTheSnapshot() async throws {
        try await self.withCoordinator(initial: Fixtures.bytes(containers: 2)) { coordinator, path in
            let served = try #require(coordinator.store.current)
            try Fixtures.write(Array("{".utf8), to: path)
            #expect(await coordinator.reload(trigger: .api)?.result == .failed)
            try Fixtures.write(Fixtures.bytes(containers: 2), to: path)
            let back = try #require(await coordinator.reload(trigger: .api))
            #expect(back.result == .unchanged)
            #expect(back.revision == served.revision)
            #expect(coordinator.store.current === served)
        }
    }

    @Test(arguments: ["missing", "directory", "fifo", "empty", "json", "schema", "too-large"])
    func aBadFileNeverReplacesTheServedSnapshot(kind: String) async throws {
        try await self.withCoordinator(initial: Fixtures.bytes(containers: 2), maximumBytes: 4096) { coordinator, path in
            let served = try #require(coordinator.store.current)
            let expectedCode: String
            switch kind {
            case "missing":
                try FileManager.default.removeItem(atPath: path)
                expectedCode = "database_unreadable"
            case "directory":
                try FileManager.default.removeItem(atPath: path)
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
                expectedCode = "database_unreadable"
            case "fifo":
                // Opening a FIFO for reading waits for a writer: the reload must not (nor every one after it).
                try FileManager.default.removeItem(atPath: path)
                #expect(mkfifo(path, 0o644) == 0)
                expectedCode = "database_unreadable"
            case "empty":
                try Fixtures.write([], to: path)
                expectedCode = "database_empty"
            case "json":
                try Fixtures.write(Array("{\"schema_version\": 1,".utf8), to: path)
                expectedCode = "invalid_json"
            case "schema":
                try Fixtures.write(Array(#"{"schema_version": 1, "channels": ["dev"], "releases": [{"container": "x"}]}"#.utf8), to: path)
                expectedCode = "invalid_database"
            default:
                try Fixtures.write(Fixtures.bytes(containers: 40), to: path)
                expectedCode = "database_too_large"
            }
            let report = try #require(await coordinator.reload(trigger: .api))
            #expect(report.result == .failed)
            #expect(report.error?.code == expectedCode)
            #expect(report.revision == served.revision)
            #expect(coordinator.store.current === served)
            #expect(coordinator.status.failed == 1)
            #expect(coordinator.status.lastReport?.error?.summary.isEmpty == false)
        }
    }

    @Test func concurrentTriggersShareBuilds() async throws {
        try await self.withCoordinator(initial: Fixtures.bytes(containers: 300)) { coordinator, path in
            try Fixtures.write(Fixtures.bytes(containers: 300, tag: "v2"), to: path)
            let reports = await withTaskGroup(of: ReloadReport?.self) { group in
                for _ in 0..<50 { group.addTask { await coordinator.reload(trigger: .api) } }
                var reports: [ReloadReport?] = []
                for await report in group { reports.append(report) }
                return reports
            }
            #expect(reports.allSatisfy { $0?.result != .failed })
            #expect(reports.filter { $0?.result == .changed }.count >= 1)
            // 50 requests, but builds are shared: far fewer than one build per request.
            let builds = coordinator.status.succeeded - 1
            #expect(builds < 50)
            #expect(reports.compactMap { $0?.revision }.allSatisfy { $0 == coordinator.store.current?.revision })
        }
    }

    @Test func aRequestDuringABuildIsAnsweredByALaterBuild() async throws {
        try await self.withCoordinator(initial: Fixtures.bytes(containers: 3000)) { coordinator, path in
            try Fixtures.write(Fixtures.bytes(containers: 3000, tag: "v2"), to: path)
            async let first = coordinator.reload(trigger: .api)
            // Give that build time to start (3000 containers take a while to build), then change the
            // file and ask again: whatever the interleaving, the second answer must reflect the second
            // write, never a build that was already running when it was asked for.
            try await Task.sleep(for: .milliseconds(5))
            try Fixtures.write(Fixtures.bytes(containers: 3000, tag: "v3"), to: path)
            let second = try #require(await coordinator.reload(trigger: .api))
            _ = await first
            #expect(second.result == .changed)
            #expect(coordinator.store.current?.release(container: "my-app", channel: "dev")?.image == "ghcr.io/acme/app-0:v3-dev")
            #expect(second.revision == coordinator.store.current?.revision)
        }
    }
}
