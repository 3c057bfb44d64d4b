import Foundation
import ReleaseChannelClient
import ReleaseChannelServer
import ReleaseChannelTestSupport
import Testing

/// `release-chan query` and `release-chan watch`, the CLI's binary-protocol commands, against a real
/// server.
@Suite struct ProtocolCommandTests {
    /// Every run is bounded: a `watch` that missed its change would otherwise wait forever.
    func run(_ arguments: [String]) async throws -> Subprocess.Result {
        try await Subprocess.run("/usr/bin/timeout", ["-k", "5", "60", Fixtures.executable.path] + arguments)
    }

    /// A timeout that is not a number of seconds the client can wait is a usage error: `inf` and `1e300`
    /// crashed the conversion to milliseconds.
    @Test(arguments: ["inf", "1e300", "nan", "0"])
    func anImpossibleTimeoutIsAUsageError(timeout: String) async throws {
        for command in ["query", "watch"] {
            let arguments = command == "query" ? ["query", "--timeout", timeout, "my-app", "prod"] : ["watch", "--timeout", timeout]
            let result = try await self.run(arguments)
            #expect(result.status == 2, "\(command) --timeout \(timeout): \(result.status) \(result.standardError)")
            #expect(result.standardError.contains("--timeout must be a number of seconds above 0 and at most 86400"), "\(result.standardError)")
        }
    }

    /// `watch --count 0` (or below) is a usage error: it had waited for changes forever, never stopping.
    @Test(arguments: ["0", "-3"])
    func aWatchCountBelowOneIsAUsageError(count: String) async throws {
        let result = try await self.run(["watch", "--tcp", "127.0.0.1:1", "--count", count])
        #expect(result.status == 2, "\(result.standardError)")
        #expect(result.standardError.contains("--count must be at least 1, not \(count)"), "\(result.standardError)")
    }

    @Test func queryPrintsAnImageOrEveryChannel() async throws {
        try await withTestServer(configure: { $0.watchFile = false }) { server in
            let endpoint = "127.0.0.1:\(server.tcpPort)"
            let one = try await self.run(["query", "--tcp", endpoint, "my-app", "prod"])
            #expect(one.status == 0, "\(one.standardError)")
            #expect(one.standardOutput == "ghcr.io/acme/app-0:v1-prod\n")

            let all = try await self.run(["query", "--tcp", endpoint, "app-1"])
            #expect(all.status == 0, "\(all.standardError)")
            #expect(all.standardOutput.split(separator: "\n") == [
                "CHANNEL  IMAGE",
                "dev      ghcr.io/acme/app-1:v1-dev",
                "stage    ghcr.io/acme/app-1:v1-stage",
                "prod     ghcr.io/acme/app-1:v1-prod",
            ])

            // --json: the records as JSON, for scripts.
            let record = try await self.run(["query", "--tcp", endpoint, "--json", "my-app", "prod"])
            #expect(record.status == 0, "\(record.standardError)")
            #expect(record.standardOutput == #"{"container":"my-app","channel":"prod","image":"ghcr.io/acme/app-0:v1-prod","digest":null,"updated_at":"2026-11-26T12:00:00Z"}"# + "\n")
            let records = try await self.run(["query", "--tcp", endpoint, "--json", "app-1"])
            #expect(records.status == 0, "\(records.standardError)")
            let decoded = try #require(try JSONSerialization.jsonObject(with: Data(records.standardOutput.utf8)) as? [[String: Any]])
            #expect(decoded.map { $0["channel"] as? String } == ["dev", "stage", "prod"])
            #expect(decoded.map { $0["image"] as? String } == ["ghcr.io/acme/app-1:v1-dev", "ghcr.io/acme/app-1:v1-stage", "ghcr.io/acme/app-1:v1-prod"])
        }
    }

    @Test func queryExplainsWhatIsMissing() async throws {
        try await withTestServer(configure: { $0.watchFile = false }) { server in
            let endpoint = "127.0.0.1:\(server.tcpPort)"
            let release = try await self.run(["query", "--tcp", endpoint, "nope", "dev"])
            #expect(release.status == 1)
            #expect(release.standardOutput.isEmpty)
            #expect(release.standardError == "container \"nope\" has no release on channel \"dev\"\n")

            // A channel the db does not list is refused by the server, which says why.
            let channel = try await self.run(["query", "--tcp", endpoint, "my-app", "qa"])
            #expect(channel.status == 1)
            #expect(channel.standardError.hasPrefix("release-chan query: server error BAD_REQUEST: unknown channel \"qa\""), "\(channel.standardError)")

            let container = try await self.run(["query", "--tcp", endpoint, "nope"])
            #expect(container.status == 1)
            #expect(container.standardError == "no releases for container \"nope\"\n")

            let invalid = try await self.run(["query", "--tcp", endpoint, "Not A Name", "dev"])
            #expect(invalid.status == 1)
            #expect(invalid.standardError.hasPrefix("release-chan query: "), "\(invalid.standardError)")
        }
    }

    @Test func queryWithoutAServerFailsWithStatus4() async throws {
        let port = try ClientSDKTests.freePort()
        let result = try await self.run(["query", "--tcp", "127.0.0.1:\(port)", "--timeout", "0.5", "my-app", "prod"])
        #expect(result.status == 4)
        #expect(result.standardError.hasPrefix("release-chan query: "), "\(result.standardError)")
        let usage = try await self.run(["query", "--tcp", "localhost:99999", "my-app"])
        #expect(usage.status == 2, "\(usage.standardError)")
        #expect(usage.standardError.contains("--tcp \"localhost:99999\" is not HOST[:PORT]"), "\(usage.standardError)")
    }

    /// "no server reachable" says why for each endpoint: refused, no HELLO reply, or the server's own
    /// refusal (BUSY at its connection cap). Each had been the same bare line.
    @Test func aFailedConnectSaysWhyForEachEndpoint() async throws {
        let refused = try ClientSDKTests.freePort()
        let silent = try await SilentListener()
        defer { silent.close() }
        try await withTestServer(configure: { $0.tcpMaximumConnections = 1 }) { server in
            // The server's one connection is taken by a watch for the length of the test.
            // Timeouts far above a loaded machine's delays: the CLI's has to cover the BUSY reply.
            var configuration = ReleaseChannelClientConfiguration(endpoints: [.init(host: "127.0.0.1", port: server.tcpPort)])
            configuration.connections = 1
            configuration.connectTimeout = .seconds(30)
            try await ReleaseChannelClient.withClient(configuration: configuration) { _ in
                let result = try await self.run([
                    "query", "--tcp", "127.0.0.1:\(refused)", "--tcp", "127.0.0.1:\(silent.port)", "--tcp", "127.0.0.1:\(server.tcpPort)", "--timeout", "3", "my-app",
                ])
                #expect(result.status == 4)
                let line = result.standardError
                #expect(line.contains("no server reachable at 127.0.0.1:\(refused), 127.0.0.1:\(silent.port), 127.0.0.1:\(server.tcpPort) ("), "\(line)")
                #expect(line.contains("127.0.0.1:\(refused): connection refused"), "\(line)")
                #expect(line.contains("127.0.0.1:\(silent.port): no HELLO reply within the connect timeout"), "\(line)")
                #expect(line.contains("127.0.0.1:\(server.tcpPort): server error BUSY"), "\(line)")
            }
        }
    }

    /// `watch` across a server restart: it says when the connection is lost and when it is back, and the
    /// change made meanwhile is printed. It had been silent until the change.
    @Test func watchSaysWhenItLosesTheServerAndWhenItIsBack() async throws {
        let directory = try TemporaryDirectory()
        try Fixtures.write(Fixtures.bytes(containers: 2, tag: "first"), to: directory.file("db.json"))
        let port = try ClientSDKTests.freePort()
        let arguments = ["--db", directory.file("db.json"), "--tcp-port", "\(port)", "--watch", "false"]
        let first = try await ServerProcess(arguments: arguments, directory: directory)
        async let watched = self.run(["watch", "--tcp", "127.0.0.1:\(port)", "--count", "1", "--timeout", "30"])
        #expect(try await eventually {
            String(decoding: try await first.request("/metrics").body, as: UTF8.self).contains("release_chan_tcp_watch_subscribers 1")
        })
        first.signal(SIGTERM)
        #expect(try await first.waitForExit() == 0)
        try Fixtures.write(Fixtures.bytes(containers: 2, tag: "second"), to: directory.file("db.json"))
        let second = try await ServerProcess(arguments: arguments, directory: directory)
        let result = try await watched
        second.signal(SIGTERM)
        _ = try await second.waitForExit()
        #expect(result.status == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.last?.contains("revision \(Fixtures.revision(containers: 2, tag: "second")) (noticed on reconnect; counts not known)") == true, "\(lines)")
        let lost = try #require(result.standardError.range(of: "release-chan watch: connection lost; reconnecting"), "\(result.standardError)")
        let back = try #require(result.standardError.range(of: "release-chan watch: reconnected"), "\(result.standardError)")
        #expect(lost.upperBound <= back.lowerBound)
    }

    @Test func watchPrintsTheServedRevisionThenEachChange() async throws {
        try await withTestServer(configure: {
            $0.watchFile = false
            $0.reloadInterval = .seconds(3600)
        }) { server in
            async let watched = self.run(["watch", "--tcp", "127.0.0.1:\(server.tcpPort)", "--count", "1"])
            #expect(try await eventually {
                String(decoding: try await server.request("/metrics").body, as: UTF8.self).contains("release_chan_tcp_watch_subscribers 1")
            })
            try Fixtures.write(Fixtures.bytes(containers: 4, tag: "next"), to: server.databasePath)
            #expect(try await server.request("POST", "/v1/reload").json["changed"] as? Bool == true)

            let result = try await watched
            #expect(result.status == 0, "\(result.standardError)")
            let lines = result.standardOutput.split(separator: "\n").map(String.init)
            #expect(lines.count == 2, "\(lines)")
            let next = "\(Fixtures.revision(containers: 4, tag: "next")) (12 releases, 4 containers)"
            // The reload may land before the server answers the command's REVISION request (both go out
            // once the connection is up), so the first line names either revision.
            #expect(["serving \(Fixtures.revision(containers: 3, tag: "v1")) (9 releases, 3 containers)", "serving \(next)"].contains(lines.first ?? ""), "\(lines)")
            #expect(lines.last?.hasSuffix("Z revision \(next)") == true, "\(lines)")
        }
    }
}
