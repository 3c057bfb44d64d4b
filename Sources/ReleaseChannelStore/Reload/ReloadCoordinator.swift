import CSystemShims
import Foundation
public import Logging
import Metrics
import NIOCore
import NIOPosix
public import ServiceLifecycle
import Synchronization

/// Runs every reload of the db file, one at a time, and coalesces triggers.
///
/// Triggers (file watch, poll, `POST /v1/reload`, SIGHUP) only enqueue a request; the ``run()`` loop takes
/// all requests queued so far and answers them with one build. A request that arrives while a build is
/// running waits for the next build, which starts after it arrived, so every caller sees the file as it
/// was at or after its request. Builds run on a dedicated thread, off the event loops and the Swift
/// concurrency pool, so a large db never stalls request handling.
public final class ReloadCoordinator: Service, Sendable {
    private struct Pending {
        var waiters: [CheckedContinuation<ReloadReport?, Never>] = []
        var triggers: [ReloadTrigger] = []
        var isShutDown = false
    }

    public let file: DatabaseFile
    public let store: SnapshotStore
    private let logger: Logger
    private let metrics: any MetricsFactory
    private let pending = Mutex(Pending())
    private let reloadStatus = Mutex(ReloadStatus())
    /// Digest of the file bytes the served snapshot was built from (see `DatabaseFile.load(unlessFileDigestIs:)`).
    private let servedFileDigest = Mutex<String?>(nil)
    private let wakeups: AsyncStream<Void>
    private let wakeupContinuation: AsyncStream<Void>.Continuation

    public init(file: DatabaseFile, store: SnapshotStore, logger: Logger, metrics: any MetricsFactory) {
        self.file = file
        self.store = store
        self.logger = logger
        self.metrics = metrics
        // One buffered wake-up is enough: the loop drains everything queued when it wakes.
        (self.wakeups, self.wakeupContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Counters and the last attempt.
    public var status: ReloadStatus { self.reloadStatus.withLock { $0 } }

    /// Loads the file synchronously before serving starts; a bad file here must stop the process.
    @discardableResult
    public func loadInitial() throws(DatabaseLoadError) -> Snapshot {
        let report = self.build(trigger: .startup)
        if let error = report.error { throw error }
        guard let snapshot = self.store.currentUncached else {
            throw .unreadable(path: self.file.path, reason: "no snapshot after the initial load")
        }
        // Nothing is served yet, so the gzip form can be ready from the first request on.
        self.compressWholeDatabase(of: snapshot)
        release_chan_trim_heap()
        return snapshot
    }

    /// Asks for a reload and waits for the build that answers it; nil when the server is shutting down.
    public func reload(trigger: ReloadTrigger) async -> ReloadReport? {
        await withCheckedContinuation { continuation in
            let accepted = self.pending.withLock { pending in
                guard !pending.isShutDown else { return false }
                pending.waiters.append(continuation)
                pending.triggers.append(trigger)
                return true
            }
            if accepted {
                self.wakeupContinuation.yield()
            } else {
                continuation.resume(returning: nil)
            }
        }
    }

    /// Asks for a reload without waiting for it (file watch, poll, signal).
    public func requestReload(trigger: ReloadTrigger) {
        let accepted = self.pending.withLock { pending in
            guard !pending.isShutDown else { return false }
            pending.triggers.append(trigger)
            return true
        }
        if accepted { self.wakeupContinuation.yield() }
    }

    public func run() async {
        // A thread of its own for builds: a large db takes seconds to build, and sharing a pool would let
        // other blocking work delay a reload (or a reload delay it).
        let builder = NIOThreadPool(numberOfThreads: 1)
        builder.start()
        // Builds yield the CPU to request handling: on a busy machine a reload takes longer rather than
        // the lookups it runs beside (their p99 during reloads is a benchmark figure).
        _ = try? await builder.runIfActive { release_chan_lower_thread_priority(5) }
        for await _ in self.wakeups.cancelOnGracefulShutdown() {
            let batch = self.pending.withLock { pending in
                defer {
                    pending.waiters = []
                    pending.triggers = []
                }
                return (pending.waiters, pending.triggers)
            }
            guard let trigger = Self.reportedTrigger(batch.1) else { continue }
            let report: ReloadReport
            do {
                report = try await builder.runIfActive { self.build(trigger: trigger) }
            } catch {
                report = self.build(trigger: trigger)
            }
            for waiter in batch.0 { waiter.resume(returning: report) }
            if report.result == .changed {
                // The new revision is already served; its gzip form follows (see `WholeDatabaseBody`). A
                // reload queued meanwhile waits for this, which is bounded by the time of one compression.
                try? await builder.runIfActive {
                    if let snapshot = self.store.currentUncached { self.compressWholeDatabase(of: snapshot) }
                    release_chan_trim_heap()
                }
            }
        }
        let abandoned = self.pending.withLock { pending in
            pending.isShutDown = true
            defer { pending.waiters = [] }
            return pending.waiters
        }
        for waiter in abandoned { waiter.resume(returning: nil) }
        try? await builder.shutdownGracefully()
    }

    /// The trigger a coalesced build is reported under: an explicit request wins over background ones.
    private static func reportedTrigger(_ triggers: [ReloadTrigger]) -> ReloadTrigger? {
        for preferred in [ReloadTrigger.api, .signal, .fileWatch, .poll, .startup] where triggers.contains(preferred) {
            return preferred
        }
        return nil
    }

    /// Reads, validates and, when the revision differs, builds and swaps a snapshot. Never throws: a
    /// failure is reported and the current snapshot stays.
    private func build(trigger: ReloadTrigger) -> ReloadReport {
        let started = ContinuousClock.now
        // The served snapshot, whose unchanged releases the new one takes over, is let go before the
        // trim below.
        var previous = self.store.currentUncached
        let currentRevision = previous?.revision
        let report: ReloadReport
        do {
            let known = currentRevision == nil ? nil : self.servedFileDigest.withLock { $0 }
            let revision: String
            let fileDigest: String
            // A canonical file is built from its index, any other from the decoded db.
            let makeSnapshot: (_ loadedAt: Double, _ previous: Snapshot?) -> Snapshot
            switch try self.file.load(unlessFileDigestIs: known, carryingOver: previous) {
            case .sameBytes:
                return self.finish(
                    ReloadReport(at: Date().timeIntervalSince1970, trigger: trigger, result: .unchanged, revision: currentRevision, error: nil),
                    previous: currentRevision,
                    started: started
                )
            case .indexed(let contents):
                (revision, fileDigest) = (contents.revision, contents.fileDigest)
                makeSnapshot = { SnapshotBuilder.build(contents, loadedAt: $0, replacing: $1) }
            case .loaded(let contents):
                (revision, fileDigest) = (contents.revision, contents.fileDigest)
                makeSnapshot = { SnapshotBuilder.build(contents, loadedAt: $0, replacing: $1) }
            }
            if revision == currentRevision {
                report = ReloadReport(at: Date().timeIntervalSince1970, trigger: trigger, result: .unchanged, revision: revision, error: nil)
            } else {
                let snapshot = makeSnapshot(Date().timeIntervalSince1970, previous)
                previous = nil
                self.store.swap(snapshot)
                self.logger.debug(
                    "built snapshot",
                    metadata: [
                        "revision": "\(snapshot.revision)",
                        "containers": "\(snapshot.containerCount)",
                        "copied_containers": "\(snapshot.carryover?.copiedContainers ?? 0)",
                    ]
                )
                report = ReloadReport(at: snapshot.loadedAt, trigger: trigger, result: .changed, revision: snapshot.revision, error: nil)
            }
            // The served snapshot now comes from these bytes.
            self.servedFileDigest.withLock { $0 = fileDigest }
        } catch {
            report = ReloadReport(at: Date().timeIntervalSince1970, trigger: trigger, result: .failed, revision: currentRevision, error: error)
        }
        // Parsing a large db leaves tens of megabytes of freed memory in malloc's arenas; hand it back to
        // the system so the steady RSS is the snapshot's, not the last reload's peak.
        release_chan_trim_heap()
        return self.finish(report, previous: currentRevision, started: started)
    }

    /// A failure leaves the whole db uncompressed (clients must accept that form anyway), so it is logged,
    /// not reported as a failed reload.
    private func compressWholeDatabase(of snapshot: Snapshot) {
        let started = ContinuousClock.now
        do {
            guard let gzip = try snapshot.compressWholeDatabase() else { return }
            self.logger.debug(
                "compressed the whole db",
                metadata: [
                    "revision": "\(snapshot.revision)",
                    "segments": "\(gzip.segmentCount)",
                    "reused_segments": "\(gzip.reusedSegmentCount)",
                    "bytes": "\(gzip.file.count)",
                    "in_memory": "\(gzip.file.isInMemory)",
                    "duration_ms": "\((ContinuousClock.now - started).nanoseconds / 1_000_000)",
                ]
            )
        } catch {
            self.logger.error(
                "could not gzip the whole db; it is served uncompressed",
                metadata: ["revision": "\(snapshot.revision)", "error": "\(error)"]
            )
        }
    }

    private func finish(_ report: ReloadReport, previous: String?, started: ContinuousClock.Instant) -> ReloadReport {
        self.record(report, previous: previous, duration: ContinuousClock.now - started)
        return report
    }

    private func record(_ report: ReloadReport, previous: String?, duration: Duration) {
        self.reloadStatus.withLock { status in
            status.lastReport = report
            if report.result == .failed { status.failed += 1 } else { status.succeeded += 1 }
        }
        Counter(
            label: "release_chan_reloads_total",
            dimensions: [("result", report.result.rawValue), ("trigger", report.trigger.rawValue)],
            factory: self.metrics
        ).increment()
        Timer(label: "release_chan_reload_duration_seconds", dimensions: [("result", report.result.rawValue)], factory: self.metrics)
            .recordNanoseconds(duration.nanoseconds)
        var metadata: Logger.Metadata = [
            "trigger": "\(report.trigger.rawValue)",
            "result": "\(report.result.rawValue)",
            "revision": "\(report.revision ?? "none")",
            "duration_ms": "\(duration.nanoseconds / 1_000_000)",
            "path": "\(self.file.path)",
        ]
        switch report.result {
        case .changed:
            metadata["previous_revision"] = "\(previous ?? "none")"
            self.logger.info("serving new db revision", metadata: metadata)
        case .unchanged:
            self.logger.debug("db unchanged", metadata: metadata)
        case .failed:
            metadata["error_code"] = "\(report.error?.code ?? "unknown")"
            metadata["error"] = "\(report.error?.summary ?? "unknown")"
            // `revision` is the one still served, if any.
            if previous == nil {
                self.logger.error("db load rejected, no revision is being served", metadata: metadata)
            } else {
                self.logger.error("db reload rejected, the previous revision keeps serving", metadata: metadata)
            }
        }
    }
}

extension Duration {
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
