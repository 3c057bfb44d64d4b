import ReleaseChannelTestSupport
import Foundation
import Testing

/// The real binary: start-up failures, signals and graceful shutdown.
@Suite struct ProcessLifecycleTests {
    @Test func anInvalidDatabaseAtStartExitsWithTheErrors() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("bad.json")
        try Fixtures.write(Array(#"{"schema_version": 1, "channels": ["dev"], "releases": [{"container": "A", "channel": "dev", "image": "a:1", "updated_at": "2026-11-26T12:00:00Z"}]}"#.utf8), to: path)
        let result = try await Subprocess.run(Fixtures.executable.path, ["serve", "--db", path, "--host", "127.0.0.1", "--http-port", "0"])
        #expect(result.status == 1)
        #expect(result.standardError.contains("release-chan: cannot serve, the db cannot be loaded:\n  \(path):1:71: releases[0].container: container name \"A\""), "\(result.standardError)")
        // The log says that nothing is served, not that a previous revision is.
        #expect(result.standardError.contains("db load rejected, no revision is being served"), "\(result.standardError)")
        #expect(!result.standardError.contains("keeps serving"))

        let missing = try await Subprocess.run(Fixtures.executable.path, ["serve", "--db", directory.file("none.json"), "--http-port", "0"])
        #expect(missing.status == 1)
        #expect(missing.standardError.contains("does not exist"), "\(missing.standardError)")
    }

    /// A port already taken ends the process with status 4 and a message naming the listener and the
    /// address (NIO's own error names neither).
    @Test func aTakenPortIsNamed() async throws {
        try await withTestServer { server in
            let db = Fixtures.repositoryRoot.appendingPathComponent("db/db.json").path
            let http = try await Subprocess.run(
                Fixtures.executable.path, ["serve", "--db", db, "--host", "127.0.0.1", "--http-port", "\(server.port)", "--tcp-port", "0", "--watch", "false"]
            )
            #expect(http.status == 4)
            #expect(http.standardError.contains("release-chan: cannot listen for HTTP on 127.0.0.1:\(server.port): Address already in use"), "\(http.standardError)")
            let tcp = try await Subprocess.run(
                Fixtures.executable.path, ["serve", "--db", db, "--host", "127.0.0.1", "--http-port", "0", "--tcp-port", "\(server.tcpPort)", "--watch", "false"]
            )
            #expect(tcp.status == 4)
            #expect(tcp.standardError.contains("release-chan: cannot listen for binary protocol on 127.0.0.1:\(server.tcpPort): Address already in use"), "\(tcp.standardError)")
        }
    }

    /// A host that is no address and resolves to none ends the process like a taken port (status 4),
    /// naming the host; it had been NIO's bare SocketAddressError with status 1, the "db cannot be
    /// loaded" code.
    @Test func anUnresolvableHostIsNamed() async throws {
        let db = Fixtures.repositoryRoot.appendingPathComponent("db/db.json").path
        let result = try await Subprocess.run(
            Fixtures.executable.path, ["serve", "--db", db, "--host", "nosuchhost.invalid", "--http-port", "0", "--tcp-port", "0", "--watch", "false"]
        )
        #expect(result.status == 4)
        #expect(result.standardError.contains("on nosuchhost.invalid:0: the host is not an IP address and does not resolve to one"), "\(result.standardError)")
    }

    @Test func badOptionsAreUsageErrors() async throws {
        let flag = try await Subprocess.run(Fixtures.executable.path, ["serve", "--reload-interval", "soon"])
        #expect(flag.status == 2)
        #expect(flag.standardError.contains("--reload-interval"))
        // The usage shown is serve's, not the root command's.
        #expect(flag.standardError.contains("Usage: release-chan serve <options>\n  See 'release-chan serve --help'"), "\(flag.standardError)")
        let samePort = try await Subprocess.run(Fixtures.executable.path, ["serve", "--http-port", "18089", "--tcp-port", "18089"])
        #expect(samePort.status == 2)
        #expect(samePort.standardError.contains("the HTTP and binary protocol ports must differ (both are 18089)"), "\(samePort.standardError)")
        var environment = ProcessInfo.processInfo.environment
        environment["RELEASE_CHAN_HTTP_PORT"] = "99999"
        let variable = try await Subprocess.run(Fixtures.executable.path, ["serve"], environment: environment)
        #expect(variable.status == 2)
        #expect(variable.standardError.contains("RELEASE_CHAN_HTTP_PORT"))
        let threads = try await Subprocess.run(Fixtures.executable.path, ["serve", "--event-loop-threads", "0"])
        #expect(threads.status == 2)
        #expect(threads.standardError.contains("--event-loop-threads"))
        // Numbers too large to count in are refused, not a crash (they had trapped: exit 132).
        for (option, value) in [
            ("--reload-interval", "1e30s"), ("--drain-delay", "99999999999999999h"), ("--tcp-idle-timeout", "1e300"),
            ("--max-db-bytes", "99999999999999G"), ("--http-idle-timeout", "1e300"), ("--http-idle-timeout", "0"),
            ("--tcp-max-frame", "1023"), ("--tcp-max-frame", "17MiB"), ("--tcp-max-frame", "99999999999999G"),
            ("--http-request-head-timeout", "0"), ("--http-request-head-timeout", "1e300"), ("--http-max-connections", "0"),
        ] {
            let huge = try await Subprocess.run(Fixtures.executable.path, ["serve", option, value])
            #expect(huge.status == 2, "\(option) \(value): \(huge.standardError.prefix(300))")
            #expect(huge.standardError.contains("\(option) has an invalid value \"\(value)\""), "\(huge.standardError.prefix(300))")
        }
        environment["RELEASE_CHAN_HTTP_PORT"] = nil
        environment["RELEASE_CHAN_SHUTDOWN_TIMEOUT"] = "1e20m"
        let hugeVariable = try await Subprocess.run(Fixtures.executable.path, ["serve"], environment: environment)
        #expect(hugeVariable.status == 2)
        #expect(hugeVariable.standardError.contains("RELEASE_CHAN_SHUTDOWN_TIMEOUT"))
    }

    @Test func optionsComeFromTheEnvironment() async throws {
        let directory = try TemporaryDirectory()
        try Fixtures.write(Fixtures.bytes(containers: 2, tag: "env"), to: directory.file("db.json"))
        let server = try await ServerProcess(
            arguments: [],
            directory: directory,
            environment: ["RELEASE_CHAN_DB": directory.file("db.json"), "RELEASE_CHAN_EVENT_LOOP_THREADS": "3", "RELEASE_CHAN_TCP_MAX_FRAME": "2KiB"]
        )
        let response = try await server.request("/v1/releases/my-app/prod")
        #expect(response.json["image"] as? String == "ghcr.io/acme/app-0:env-prod")
        // The HELLO reply announces the configured max_frame (offset 21, after the header and version).
        let socket = try RawSocket(port: server.tcpPort)
        try await socket.send(try ProtocolServerTests.vector("hello-request"))
        let hello = try #require(try await socket.readFrame())
        #expect(Array(hello[21..<25]) == [0x00, 0x00, 0x08, 0x00], "max_frame 2048")
        // The shared event-loop group's threads are named NIO-SGLTN-<group>-#<n>.
        let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/task").filter { task in
            let name = (try? String(contentsOfFile: "/proc/\(server.pid)/task/\(task)/comm", encoding: .utf8)) ?? ""
            return name.hasPrefix("NIO-SGLTN-")
        }
        #expect(threads.count == 3)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }

    @Test func sighupReloadsTheDatabase() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        try Fixtures.write(Fixtures.bytes(containers: 2), to: path)
        let server = try await ServerProcess(arguments: ["--db", path, "--watch", "false", "--reload-interval", "1h"], directory: directory)
        try Fixtures.write(Fixtures.bytes(containers: 2, tag: "hup"), to: path)
        server.signal(SIGHUP)
        #expect(try await eventually(timeout: .seconds(15)) {
            try await server.request("/v1/releases/my-app/dev").json["image"] as? String == "ghcr.io/acme/app-0:hup-dev"
        })
        let health = try await server.request("/v1/health")
        #expect((health.json["last_reload"] as? [String: Any])?["trigger"] as? String == "signal")
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }

    @Test func sigtermTurnsReadinessOffThenDrains() async throws {
        let directory = try TemporaryDirectory()
        try Fixtures.write(Fixtures.bytes(containers: 2), to: directory.file("db.json"))
        // A drain long enough for a loaded CI machine to get its requests in.
        let server = try await ServerProcess(arguments: ["--db", directory.file("db.json"), "--drain-delay", "5s"], directory: directory)
        #expect(try await server.request("/v1/ready").status == 200)
        server.signal(SIGTERM)
        #expect(try await eventually(timeout: .seconds(4)) { try await server.request("/v1/ready").status == 503 })
        // Still serving lookups while load balancers notice.
        #expect(try await server.request("/v1/releases/my-app/dev").status == 200)
        #expect(try await server.waitForExit() == 0)
        #expect(server.output.contains("stopped"))
    }

    /// Slow downloads of the whole db are in flight when SIGTERM arrives: each completes in full, new
    /// connections are refused, and the process exits 0.
    @Test func sigtermLetsInFlightRequestsFinish() async throws {
        let directory = try TemporaryDirectory()
        let database = Fixtures.bytes(containers: 4000)
        try Fixtures.write(database, to: directory.file("db.json"))
        let server = try await ServerProcess(
            arguments: ["--db", directory.file("db.json"), "--access-log", "false"],
            directory: directory
        )
        let url = "\(server.baseURL)/v1/releases"
        try await withThrowingTaskGroup(of: HTTPResult.self) { group in
            for _ in 0..<4 {
                // ~3 MB at 1.5 MB/s: about two seconds in flight each.
                group.addTask { try await HTTP.curl(["--limit-rate", "1500k", url]) }
            }
            // SIGTERM once every download has begun (the server has answered all four).
            #expect(try await eventually(timeout: .seconds(15)) {
                let metrics = try await HTTP.curl(["\(server.baseURL)/metrics"])
                return String(decoding: metrics.body, as: UTF8.self).contains(#"route="/v1/releases",method="GET",status="200"} 4"#)
            })
            server.signal(SIGTERM)
            var completed = 0
            for try await result in group {
                #expect(result.status == 200)
                #expect(Array(result.body) == database, "a download was cut short: \(result.body.count) of \(database.count) bytes")
                completed += 1
            }
            #expect(completed == 4)
        }
        #expect(try await server.waitForExit() == 0, "\(server.output.suffix(2000))")
        let after = try await Subprocess.run("/usr/bin/curl", ["-sS", "--max-time", "2", url])
        #expect(after.status != 0, "the listener is closed after shutdown")
    }
}
