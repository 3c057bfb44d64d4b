import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import ReleaseChannelModel
import ReleaseChannelProtocol
import Histogram
import Synchronization

/// `release-chan-bench`: a load generator for release-chan's binary protocol and HTTP API, and for Redis
/// holding the same releases (one client measuring both sides of compare.sh's TCP rows).
@main
struct ReleaseChanBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release-chan-bench",
        abstract: "Load-test a release-chan server over the binary protocol (tcp) or HTTP, or Redis holding the same releases (redis), and report rps and latency.",
        discussion: """
            Keys are drawn from the db the server serves (uniform or zipf): the file --db, or without it the \
            server's own, fetched from its HTTP API before the load (GET /v1/releases on --port in mode http, \
            on --http-port in mode tcp). Without --rate every \
            connection keeps --pipeline requests in flight (maximum rate); with --rate requests go out on a \
            fixed schedule, the connections taking turns (one request every 1/rate seconds in all), and \
            latency counts from the intended send time (corrected for coordinated \
            omission). Only the measured window after --warmup counts. Loopback unless --host says otherwise. \
            Mode redis sends `GET container:channel` to a Redis server holding the same releases under those \
            keys, so that both servers can be measured by the same client.
            """
    )

    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case tcp
        case http
        case redis
    }

    @Argument(help: "tcp, http, or redis (a Redis server holding the releases under container:channel keys).")
    var mode: Mode

    @Option(help: "Server address.")
    var host: String = "127.0.0.1"

    @Option(help: "Server port (default 8090 for tcp, 8089 for http, 6379 for redis).")
    var port: Int?

    @Option(help: "The db the server serves; keys are drawn from it (default: fetched from the server; mode redis needs it).")
    var db: String?

    @Option(help: "The server's HTTP port, where mode tcp fetches the served db when --db is not given.")
    var httpPort: Int = 8089

    @Option(help: "Concurrent connections.")
    var connections: Int = 50

    @Option(help: "Requests in flight per connection (closed loop).")
    var pipeline: Int = 1

    @Option(help: "Seconds measured, after the warm-up.")
    var duration: Double = 10

    @Option(help: "Seconds of load before measuring.")
    var warmup: Double = 2

    @Option(help: "Total requests per second (open loop); omit for maximum rate.")
    var rate: Int?

    @Option(help: "Key distribution: uniform or zipf.")
    var keys: String = "uniform"

    @Option(help: "Zipf exponent.")
    var zipfExponent: Double = 1.0

    @Option(help: "HTTP path template.")
    var path: String = "/v1/releases/{container}/{channel}"

    @Option(
        name: .customLong("header"),
        help: ArgumentHelp("A header field for mode http, as `Name: value` (repeatable), e.g. `Accept-Encoding: gzip`.", valueName: "field")
    )
    var headers: [String] = []

    @Option(help: "Event-loop threads of the load generator (redis-benchmark also uses one by default).")
    var threads: Int = 1

    @Option(help: "Seed for key selection.")
    var seed: UInt64 = 42

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Flag(help: "No progress line.")
    var quiet = false

    func validate() throws {
        guard self.port.map({ (1...65_535).contains($0) }) ?? true else { throw ValidationError("--port must be 1...65535") }
        guard (1...65_535).contains(self.httpPort) else { throw ValidationError("--http-port must be 1...65535") }
        guard (1...10_000).contains(self.connections) else { throw ValidationError("--connections must be 1...10000") }
        guard (1...64).contains(self.threads) else { throw ValidationError("--threads must be 1...64") }
        guard (1...1024).contains(self.pipeline) else { throw ValidationError("--pipeline must be 1...1024") }
        guard self.duration > 0, self.duration <= 3600 else { throw ValidationError("--duration must be in (0, 3600] seconds") }
        guard self.warmup >= 0, self.warmup <= 600 else { throw ValidationError("--warmup must be in [0, 600] seconds") }
        if let rate = self.rate, rate < 1 { throw ValidationError("--rate must be positive") }
        guard KeySampler.Distribution(rawValue: self.keys) != nil else { throw ValidationError("--keys must be uniform or zipf") }
        guard self.headers.isEmpty || self.mode == .http else { throw ValidationError("--header is for mode http only") }
        guard self.db != nil || self.mode != .redis else { throw ValidationError("mode redis needs --db: Redis does not serve a db to draw keys from") }
        for field in self.headers {
            if let problem = WireRequests.headerField(field) { throw ValidationError("--header \(problem)") }
        }
    }

    func run() async throws {
        let port = self.port ?? self.mode.defaultPort
        let database =
            if let db = self.db {
                try ServedDatabase.read(path: db)
            } else {
                try await ServedDatabase.fetch(host: self.host, port: self.mode == .http ? port : self.httpPort)
            }
        let sampler = KeySampler(database: database, distribution: KeySampler.Distribution(rawValue: self.keys) ?? .uniform, exponent: self.zipfExponent, seed: self.seed)
        let report = try await self.load(sampler: sampler, port: port)
        print(self.json ? report.json : report.table)
        if report.result.completed == 0 { throw ExitCode(1) }
    }

    func load(sampler: KeySampler, port: Int) async throws -> LoadReport {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: self.threads)
        defer { group.shutdownGracefully { _ in } }
        let counters = LiveCounters()
        let start = NIODeadline.now()
        let measureFrom = start + .milliseconds(Int64(self.warmup * 1000))
        let stopAt = measureFrom + .milliseconds(Int64(self.duration * 1000))
        // Every key's request, made once at start for all connections.
        let requests =
            switch self.mode {
            case .tcp: WireRequests.protocolGets(sampler.keys)
            case .redis: WireRequests.redisGets(sampler.keys)
            case .http: WireRequests.httpGets(sampler.keys, template: self.path, host: self.host, port: port, headers: self.headers)
            }
        var results: [EventLoopFuture<ConnectionResult>] = []
        for index in 0..<self.connections {
            let loop = group.next()
            let done = loop.makePromise(of: ConnectionResult.self)
            let driver = LoadDriver(
                sampler: sampler,
                seed: self.seed &+ UInt64(index) &* 7919,
                pipeline: self.pipeline,
                openLoop: self.rate.map { LoadDriver.OpenLoop(rate: Double($0), connections: self.connections, index: index, start: start) },
                measureFrom: measureFrom,
                stopAt: stopAt,
                counters: counters
            )
            let connect = ClientBootstrap(group: loop)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(StreamLoadHandler(driver: driver, wireRequests: requests, done: done))
                    }
                }
                .connect(host: self.host, port: port)
            connect.whenFailure { _ in
                var failed = ConnectionResult()
                failed.connectionErrors = 1
                done.succeed(failed)
            }
            results.append(done.futureResult)
        }
        let progress = Task {
            guard !self.quiet else { return }
            var last = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                let now = NIODeadline.now()
                let completed = counters.completed.load(ordering: .relaxed)
                let phase = now < measureFrom ? "warm-up" : (now < stopAt ? "measuring" : "draining")
                FileHandle.standardError.write(Data("\r\(phase): \(completed - last) req/s, \(completed) done, \(counters.errors.load(ordering: .relaxed)) errors   ".utf8))
                last = completed
            }
        }
        var merged = ConnectionResult()
        for future in results {
            let result = try await future.get()
            merged.latency.add(result.latency)
            merged.completed += result.completed
            merged.errors += result.errors
            merged.connectionErrors += result.connectionErrors
        }
        progress.cancel()
        if !self.quiet { FileHandle.standardError.write(Data("\n".utf8)) }
        return LoadReport(
            mode: self.mode.rawValue,
            target: "\(self.host):\(port)",
            connections: self.connections,
            pipeline: self.pipeline,
            rate: self.rate,
            seconds: self.duration,
            result: merged
        )
    }
}

extension ReleaseChanBench.Mode {
    var defaultPort: Int {
        switch self {
        case .tcp: 8090
        case .http: 8089
        case .redis: 6379
        }
    }
}
