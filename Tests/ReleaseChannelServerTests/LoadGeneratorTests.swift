import ReleaseChannelTestSupport
import Foundation
import ReleaseChannelModel
import Testing

/// The load generator (`release-chan-bench`) against the real server binary (and a real Redis) on
/// 127.0.0.1: what it reports is what happened, in every mode. Short runs: these check behaviour, never speed.
@Suite struct LoadGeneratorTests {
    /// The `release-chan-bench` executable built next to `release-chan`.
    static var bench: String {
        Fixtures.executable.deletingLastPathComponent().appendingPathComponent("release-chan-bench").path
    }

    struct Report: Decodable {
        struct Latency: Decodable {
            let p50: Double
            let p90: Double
            let p99: Double
            let p99_9: Double
            let max: Double
        }
        let mode: String
        let connections: Int
        let pipeline: Int
        let rate: Int?
        let requests: Int
        let errors: Int
        let rps: Double
        let latency_us: Latency
    }

    /// Runs the load generator for a moment; its JSON report, and its exit status.
    func run(_ mode: String, port: Int, db: String, _ options: [String] = []) async throws -> (report: Report?, status: Int32, output: String) {
        let result = try await Subprocess.run(
            Self.bench,
            [mode, "--host", "127.0.0.1", "--port", String(port), "--db", db, "--connections", "4", "--duration", "0.6", "--warmup", "0.1", "--json", "--quiet"]
                + options
        )
        let report = try? JSONDecoder().decode(Report.self, from: Data(result.standardOutput.utf8))
        return (report, result.status, result.standardOutput + result.standardError)
    }

    @Test(arguments: ["tcp", "http"]) func measuresLookupsOfAServedDb(mode: String) async throws {
        let directory = try TemporaryDirectory()
        try Fixtures.write(Fixtures.bytes(containers: 20), to: directory.file("db.json"))
        let server = try await ServerProcess(arguments: ["--db", directory.file("db.json")], directory: directory)
        for (pipeline, keys) in [("1", "uniform"), ("8", "zipf")] {
            let run = try await self.run(mode, port: mode == "tcp" ? server.tcpPort : server.port, db: directory.file("db.json"), ["--pipeline", pipeline, "--keys", keys])
            let report = try #require(run.report, "\(run.output)")
            #expect(run.status == 0)
            #expect(report.mode == mode)
            #expect(report.connections == 4)
            #expect(report.pipeline == Int(pipeline))
            #expect(report.rate == nil)
            #expect(report.requests > 0)
            #expect(report.errors == 0, "\(run.output)")
            #expect(report.rps > 0)
            let latency = report.latency_us
            #expect(latency.p50 > 0)
            #expect(latency.p50 <= latency.p90 && latency.p90 <= latency.p99 && latency.p99 <= latency.p99_9 && latency.p99_9 <= latency.max)
        }
    }

    /// Keys the server does not have are answered with errors (404, NOT_FOUND), and counted as such.
    @Test(arguments: ["tcp", "http"]) func countsErrorReplies(mode: String) async throws {
        let directory = try TemporaryDirectory()
        try Fixtures.write(Fixtures.bytes(containers: 10), to: directory.file("db.json"))
        // The same containers and as many the server has never heard of.
        try Fixtures.write(Fixtures.bytes(containers: 20), to: directory.file("keys.json"))
        let server = try await ServerProcess(arguments: ["--db", directory.file("db.json")], directory: directory)
        let run = try await self.run(mode, port: mode == "tcp" ? server.tcpPort : server.port, db: directory.file("keys.json"))
        let report = try #require(run.report, "\(run.output)")
        #expect(report.requests > 0, "\(run.output)")
        #expect(report.errors > 0, "\(run.output)")

        // Only unknown keys: nothing completes, and the exit status says so. Each error reply is counted
        // and the connections go on: closing on one would count one error per connection (4), while
        // live connections answer far more than twice that even on a loaded machine.
        try Fixtures.write(CanonicalEncoder.encode(DatabaseGenerator(containers: 5, seed: 3).generate()), to: directory.file("other.json"))
        let failing = try await self.run(mode, port: mode == "tcp" ? server.tcpPort : server.port, db: directory.file("other.json"))
        #expect(failing.status == 1)
        #expect(failing.report?.requests == 0, "\(failing.output)")
        #expect((failing.report?.errors ?? 0) > 8, "\(failing.output)")
    }

    /// Mode redis drives a real Redis holding the releases under `container:channel` (as compare.sh
    /// loads it): a value longer than one read is reassembled, and a key Redis lacks (null reply) or
    /// holds as another type (error reply) counts as an error.
    @Test func drivesRedisWithTheSameKeys() async throws {
        let directory = try TemporaryDirectory()
        let database = DatabaseGenerator(containers: 20, seed: 5).generate()
        try Fixtures.write(CanonicalEncoder.encode(database), to: directory.file("db.json"))
        let redis = try await RedisProcess(directory: directory)
        let keys = database.releases.map { "\($0.container):\($0.channel)" }
        try await redis.set(
            keys.enumerated().map { index, key in (key, index == 0 ? String(repeating: "x", count: 300_000) : #"{"image":"\#(key)"}"#) },
            directory: directory
        )
        for pipeline in ["1", "16"] {
            let run = try await self.run("redis", port: redis.port, db: directory.file("db.json"), ["--pipeline", pipeline])
            let report = try #require(run.report, "\(run.output)")
            #expect(run.status == 0)
            #expect(report.mode == "redis")
            #expect(report.pipeline == Int(pipeline))
            #expect(report.requests > 0)
            #expect(report.errors == 0, "\(run.output)")
            let latency = report.latency_us
            #expect(latency.p50 > 0)
            #expect(latency.p50 <= latency.p90 && latency.p90 <= latency.p99 && latency.p99 <= latency.max)
        }

        try await redis.command(["DEL", keys[1]])
        try await redis.command(["RPUSH", keys[2], "a list, not a string"])
        let run = try await self.run("redis", port: redis.port, db: directory.file("db.json"))
        let report = try #require(run.report, "\(run.output)")
        #expect(report.requests > 0, "\(run.output)")
        #expect(report.errors > 0, "\(run.output)")

        // Only keys Redis does not hold (null replies), then only keys it holds as lists (error lines):
        // nothing completes and the exit status says so. Each reply is counted and the connections go
        // on: a reader that broke on such a reply would count one error per connection (4), while
        // live connections answer far more than twice that even on a loaded machine.
        try Fixtures.write(CanonicalEncoder.encode(DatabaseGenerator(containers: 5, seed: 3).generate()), to: directory.file("other.json"))
        let lists = DatabaseGenerator(containers: 1, seed: 9).generate()
        try Fixtures.write(CanonicalEncoder.encode(lists), to: directory.file("lists.json"))
        for release in lists.releases {
            try await redis.command(["RPUSH", "\(release.container):\(release.channel)", "a list, not a string"])
        }
        for db in ["other.json", "lists.json"] {
            let failing = try await self.run("redis", port: redis.port, db: directory.file(db))
            #expect(failing.status == 1, "\(db)")
            #expect(failing.report?.requests == 0, "\(db): \(failing.output)")
            #expect((failing.report?.errors ?? 0) > 8, "\(db): \(failing.output)")
        }
    }

    /// An open loop sends on its schedule, not as fast as the server answers.
    @Test(arguments: ["tcp", "http"]) func anOpenLoopKeepsItsRate(mode: String) async throws {
        let directory = try TemporaryDirectory()
        try Fixtures.write(Fixtures.bytes(containers: 20), to: directory.file("db.json"))
        let server = try await ServerProcess(arguments: ["--db", directory.file("db.json")], directory: directory)
        let run = try await self.run(
            mode, port: mode == "tcp" ? server.tcpPort : server.port, db: directory.file("db.json"), ["--rate", "200"])
        let report = try #require(run.report, "\(run.output)")
        #expect(report.rate == 200)
        #expect(report.errors == 0)
        // 0.6 s at 200/s is 120 requests, one every 20 ms on each of the 4 connections; a closed loop on
        // loopback would make tens of thousands, and a schedule that stopped rescheduling far fewer.
        #expect((90...160).contains(report.requests), "\(report.requests) requests")
    }

    /// --header fields reach the server: `If-None-Match: *` turns every answer into a 304, which is not
    /// a success; `Accept-Encoding: gzip` on the whole db (a fixed path) is read through to its end.
    @Test func sendsTheHeadersAskedFor() async throws {
        let directory = try TemporaryDirectory()
        try Fixtures.write(Fixtures.bytes(containers: 20), to: directory.file("db.json"))
        let server = try await ServerProcess(arguments: ["--db", directory.file("db.json")], directory: directory)
        let db = directory.file("db.json")

        let unchanged = try await self.run("http", port: server.port, db: db, ["--header", "If-None-Match: *"])
        #expect(unchanged.status == 1)
        #expect(unchanged.report?.requests == 0, "\(unchanged.output)")
        #expect((unchanged.report?.errors ?? 0) > 0, "\(unchanged.output)")

        let whole = try await self.run("http", port: server.port, db: db, ["--path", "/v1/releases", "--header", "Accept-Encoding: gzip"])
        let report = try #require(whole.report, "\(whole.output)")
        #expect(whole.status == 0)
        #expect(report.requests > 0)
        #expect(report.errors == 0, "\(whole.output)")

        for (options, message) in [
            (["http", "--header", "Accept-Encoding gzip"], "has no ':'"),
            (["tcp", "--header", "Accept-Encoding: gzip"], "for mode http only"),
        ] {
            let usage = try await Subprocess.run(Self.bench, options + ["--db", db])
            #expect(usage.status == 64)
            #expect(usage.standardError.contains("--header"), "\(usage.standardError)")
            #expect(usage.standardError.contains(message), "\(usage.standardError)")
        }
    }

    /// Without --db the keys are the served db's, fetched from the HTTP API (mode http on --port, mode tcp
    /// on --http-port): the server serves a db the load generator has no file of, and every key is found.
    @Test(arguments: ["tcp", "http"]) func drawsKeysFromTheServedDbWithoutAFile(mode: String) async throws {
        let directory = try TemporaryDirectory()
        try Fixtures.write(Fixtures.bytes(containers: 20), to: directory.file("served.json"))
        let server = try await ServerProcess(arguments: ["--db", directory.file("served.json")], directory: directory)
        let result = try await Subprocess.run(
            Self.bench,
            [mode, "--host", "127.0.0.1", "--port", String(mode == "tcp" ? server.tcpPort : server.port), "--http-port", String(server.port),
             "--connections", "2", "--duration", "0.4", "--warmup", "0.1", "--json", "--quiet"]
        )
        let report = try #require(try? JSONDecoder().decode(Report.self, from: Data(result.standardOutput.utf8)), "\(result.standardError)")
        #expect(result.status == 0)
        #expect(report.requests > 0)
        #expect(report.errors == 0, "\(result.standardError)")

        // Nothing serves HTTP on the port given: the message names where it looked.
        let nowhere = try await Subprocess.run(
            Self.bench, ["tcp", "--port", String(server.tcpPort), "--http-port", String(server.tcpPort), "--duration", "0.2", "--warmup", "0", "--quiet"]
        )
        #expect(nowhere.status == 1)
        #expect(nowhere.standardError.contains("cannot fetch the served db from http://127.0.0.1:\(server.tcpPort)/v1/releases"), "\(nowhere.standardError)")

        // Redis serves no db: its keys come from a file.
        let redis = try await Subprocess.run(Self.bench, ["redis", "--duration", "0.2"])
        #expect(redis.status == 64)
        #expect(redis.standardError.contains("mode redis needs --db"), "\(redis.standardError)")
    }

    @Test func aServerThatIsNotThereIsAnError() async throws {
        let directory = try TemporaryDirectory()
        try Fixtures.write(Fixtures.bytes(containers: 2), to: directory.file("db.json"))
        let refusing = try RefusingPort()
        let run = try await self.run("tcp", port: refusing.port, db: directory.file("db.json"))
        #expect(run.status != 0)
        #expect((run.report?.errors ?? 1) > 0, "\(run.output)")
        withExtendedLifetime(refusing) {}

        let usage = try await Subprocess.run(Self.bench, ["tcp", "--db", directory.file("db.json"), "--pipeline", "0"])
        #expect(usage.status == 64)
        #expect(usage.standardError.contains("--pipeline"))
    }
}
