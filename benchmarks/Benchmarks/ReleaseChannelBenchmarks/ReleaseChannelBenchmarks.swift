import Benchmark
import Foundation
import Logging
import NIOCore
import ReleaseChannelClient
import ReleaseChannelModel
import ReleaseChannelProtocol
import ReleaseChannelServer
import ReleaseChannelStore
import Synchronization

// Run: `cd benchmarks && swift package benchmark` (all) or `--filter 'Reload 1k'`.
// BENCHMARK_QUICK=1 keeps only the small sizes (what CI runs as a smoke test).

let quick = ProcessInfo.processInfo.environment["BENCHMARK_QUICK"] != nil
let metrics: [BenchmarkMetric] = [.wallClock, .mallocCountTotal, .peakMemoryResident, .throughput]

/// Tells a helper thread of a benchmark to stop.
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { self.value.load(ordering: .relaxed) }
    func set() { self.value.store(true, ordering: .relaxed) }
}

/// Canonical db bytes of a generated db with `containers` containers (× 3 channels).
func generatedBytes(containers: Int, seed: UInt64 = 1) -> [UInt8] {
    CanonicalEncoder.encode(DatabaseGenerator(containers: containers, seed: seed).generate())
}

let benchmarks: @Sendable () -> Void = {
    // MARK: Reload: read + hash + validate (a canonical file, which a generated file is, is indexed;
    // any other is decoded and canonically encoded) + build snapshot + swap, as `ReloadCoordinator`
    // does; the gzip form of the whole db is computed after the swap and is not measured here.

    let sizes: [(String, Int)] = quick ? [("1k", 1_000)] : [("1k", 1_000), ("10k", 10_000), ("100k", 100_000)]
    for (name, containers) in sizes {
        Benchmark(
            "Reload \(name) containers",
            configuration: .init(
                metrics: metrics,
                maxDuration: .seconds(containers >= 100_000 ? 60 : 10),
                maxIterations: containers >= 100_000 ? 3 : (containers >= 10_000 ? 10 : 50)
            )
        ) { benchmark in
            let path = NSTemporaryDirectory() + "release-chan-bench-\(containers)-\(UUID().uuidString).json"
            try Data(generatedBytes(containers: containers)).write(to: URL(fileURLWithPath: path))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let store = SnapshotStore()
            benchmark.startMeasurement()
            // As the server's reload does it: a canonical file (what the generator writes) is indexed.
            let snapshot: Snapshot
            switch try DatabaseFile(path: path).load(unlessFileDigestIs: nil) {
            case .indexed(let contents): snapshot = SnapshotBuilder.build(contents, loadedAt: 0)
            case .loaded(let contents): snapshot = SnapshotBuilder.build(contents, loadedAt: 0)
            case .sameBytes: return
            }
            store.swap(snapshot)
            benchmark.stopMeasurement()
            blackHole(store.current)
        }
    }

    // MARK: Reload of a file with one release changed, replacing the served snapshot: the releases of
    // the segments the served file had are taken over and their containers' blocks copied (see
    // `SnapshotCarryover`), as a GitOps commit's reload does.

    for (name, containers) in sizes where containers <= 10_000 {
        Benchmark(
            "Reload \(name) containers, one release changed",
            configuration: .init(metrics: metrics, maxDuration: .seconds(10), maxIterations: containers >= 10_000 ? 10 : 50)
        ) { benchmark in
            let path = NSTemporaryDirectory() + "release-chan-bench-changed-\(containers)-\(UUID().uuidString).json"
            defer { try? FileManager.default.removeItem(atPath: path) }
            let database = DatabaseGenerator(containers: containers).generate()
            var releases = database.releases
            releases[releases.count / 2].image += "-hotfix"
            // The served snapshot, with its gzip form (which tells where its file's segments were).
            try Data(CanonicalEncoder.encode(database)).write(to: URL(fileURLWithPath: path))
            guard case .indexed(let served) = try DatabaseFile(path: path).load(unlessFileDigestIs: nil) else { return }
            let previous = SnapshotBuilder.build(served, loadedAt: 0)
            try previous.compressWholeDatabase()
            let store = SnapshotStore()
            store.swap(previous)
            try Data(CanonicalEncoder.encode(ReleaseDatabase(channels: database.channels, releases: releases))).write(to: URL(fileURLWithPath: path))
            benchmark.startMeasurement()
            switch try DatabaseFile(path: path).load(unlessFileDigestIs: served.fileDigest, carryingOver: previous) {
            case .indexed(let contents): store.swap(SnapshotBuilder.build(contents, loadedAt: 0, replacing: previous))
            case .loaded(let contents): store.swap(SnapshotBuilder.build(contents, loadedAt: 0, replacing: previous))
            case .sameBytes: return
            }
            benchmark.stopMeasurement()
            blackHole(store.current)
        }
    }

    // MARK: Lookups in a snapshot

    let lookupDatabase = DatabaseGenerator(containers: quick ? 1_000 : 10_000).generate()
    let lookupSnapshot = SnapshotBuilder.build(database: lookupDatabase, canonicalBytes: CanonicalEncoder.encode(lookupDatabase), loadedAt: 0)
    let lookupKeys = lookupDatabase.releases.map { ($0.container, $0.channel) }

    Benchmark("Snapshot lookup", configuration: .init(metrics: metrics, scalingFactor: .kilo)) { benchmark in
        var index = 0
        for _ in benchmark.scaledIterations {
            let key = lookupKeys[index]
            blackHole(lookupSnapshot.release(container: key.0, channel: key.1))
            index = (index + 7919) % lookupKeys.count
        }
    }

    // What the HTTP fast path does per request: a lookup by the names' bytes and the release's JSON
    // rendered from its packed form into a reused buffer.
    let rawKeys = lookupKeys.map { (Array($0.0.utf8), Array($0.1.utf8)) }
    Benchmark("Snapshot lookup and JSON render", configuration: .init(metrics: metrics, scalingFactor: .kilo)) { benchmark in
        var index = 0
        var buffer = ByteBuffer()
        buffer.reserveCapacity(4096)
        for _ in benchmark.scaledIterations {
            let key = rawKeys[index]
            buffer.clear()
            let found = key.0.withUnsafeBytes { container in
                key.1.withUnsafeBytes { channel in
                    lookupSnapshot.withRelease(container: container, channel: channel) { $0.writeJSON(to: &buffer) }
                }
            }
            blackHole(found)
            blackHole(buffer.readableBytes)
            index = (index + 7919) % rawKeys.count
        }
    }

    // MARK: Reading the current snapshot (the per-request cost of the atomic swap)

    let store = SnapshotStore()
    store.swap(lookupSnapshot)
    Benchmark("SnapshotStore.current", configuration: .init(metrics: metrics, scalingFactor: .mega)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(store.current)
        }
    }

    Benchmark("SnapshotStore.current under concurrent swaps", configuration: .init(metrics: metrics, scalingFactor: .mega)) { benchmark in
        // One swapping thread per sample, for exactly as long as the sample: a fixed count of swaps
        // had outlived its sample (0.3 s against 60 ms), so that up to five threads swapped at once.
        let stop = StopFlag()
        let stopped = DispatchSemaphore(value: 0)
        let swapping = Thread {
            while !stop.isSet {
                store.swap(lookupSnapshot)
                usleep(100)
            }
            stopped.signal()
        }
        swapping.start()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(store.current)
        }
        benchmark.stopMeasurement()
        stop.set()
        stopped.wait()
    }

    // MARK: Protocol frames

    let release = ChannelRelease(
        container: "billing-api-3k",
        channel: "prod",
        image: "ghcr.io/acme/billing-api-3k:v1.14.13",
        digest: "sha256:a63af13301101515361fee369f7bfc1da192ce64e43e2550e1675a768841a571",
        updatedAt: "2026-11-28T04:09:39Z"
    )
    Benchmark("Protocol GET reply encode", configuration: .init(metrics: metrics, scalingFactor: .kilo)) { benchmark in
        var buffer = ByteBufferAllocator().buffer(capacity: 4096)
        for index in benchmark.scaledIterations {
            buffer.clear()
            buffer.writeFrame(opcode: ProtocolOpcode.get.rawValue, flags: .reply, requestID: UInt32(truncatingIfNeeded: index), revision: Revision(value: 42)) {
                release.write(to: &$0)
            }
            blackHole(buffer.readableBytes)
        }
    }

    var encoded = ByteBuffer()
    encoded.writeFrame(opcode: ProtocolOpcode.get.rawValue, flags: .reply, requestID: 7, revision: Revision(value: 42)) { release.write(to: &$0) }
    let frameBytes = encoded
    Benchmark("Protocol GET reply decode", configuration: .init(metrics: metrics, scalingFactor: .kilo)) { benchmark in
        var decoder = FrameDecoder(maximumFrameBytes: 65536)
        for _ in benchmark.scaledIterations {
            var input = frameBytes
            if let frame = try decoder.decode(buffer: &input) {
                var body = frame.body
                blackHole(try ChannelRelease.read(from: &body))
            }
        }
    }

    // MARK: SDK cached mode: a lookup answered from the client's in-memory copy

    Benchmark("SDK cached-mode lookup", configuration: .init(metrics: metrics, scalingFactor: .kilo, maxDuration: .seconds(5))) { benchmark in
        let directory = NSTemporaryDirectory() + "release-chan-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data(CanonicalEncoder.encode(lookupDatabase)).write(to: URL(fileURLWithPath: "\(directory)/db.json"))
        var configuration = ServerConfiguration()
        configuration.databasePath = "\(directory)/db.json"
        configuration.host = "127.0.0.1"
        configuration.httpPort = 0
        configuration.tcpPort = 0
        configuration.handleSignals = false
        configuration.accessLog = false
        configuration.cancellationTimeout = nil
        var logger = Logger(label: "benchmark")
        logger.logLevel = .error
        let server = ReleaseChannelServer(configuration: configuration, logger: logger)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run(onTCPListening: { continuation.yield($0) }) }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { return }
            var clientConfiguration = ReleaseChannelClientConfiguration(endpoints: [.init(host: "127.0.0.1", port: port)])
            clientConfiguration.cached = true
            try await ReleaseChannelClient.withClient(configuration: clientConfiguration, logger: logger) { client in
                while client.cachedRevision == nil { try await Task.sleep(for: .milliseconds(5)) }
                var index = 0
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    let key = lookupKeys[index]
                    blackHole(try await client.release(container: key.0, channel: key.1))
                    index = (index + 7919) % lookupKeys.count
                }
                benchmark.stopMeasurement()
            }
            group.cancelAll()
        }
    }
}
