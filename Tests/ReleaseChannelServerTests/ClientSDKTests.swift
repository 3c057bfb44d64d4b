import ReleaseChannelTestSupport
import Foundation
import NIOPosix
import ReleaseChannelClient
import ReleaseChannelModel
import ReleaseChannelServer
import Synchronization
import Testing

/// The Swift SDK against real servers: every operation, pipelining, cached mode, watch, reconnection,
/// failover and graceful shutdown. Serialized: the 10,000-request burst would otherwise skew the
/// timing of the cache test on a 2-core machine.
@Suite(.serialized) struct ClientSDKTests {
    func configuration(_ ports: Int...) -> ReleaseChannelClientConfiguration {
        var configuration = ReleaseChannelClientConfiguration(endpoints: ports.map { .init(host: "127.0.0.1", port: $0) })
        configuration.connectTimeout = .seconds(30)
        configuration.requestTimeout = .seconds(60)
        configuration.reconnectInitialDelay = .milliseconds(50)
        configuration.reconnectMaximumDelay = .milliseconds(500)
        configuration.clientName = "sdk-tests"
        return configuration
    }

    @Test func everyOperation() async throws {
        try await withTestServer(configure: { $0.watchFile = false }) { server in
            try await ReleaseChannelClient.withClient(configuration: self.configuration(server.tcpPort)) { client in
                #expect(client.state == .ready)
                let release = try #require(try await client.release(container: "my-app", channel: "prod"))
                #expect(release == ChannelRelease(container: "my-app", channel: "prod", image: "ghcr.io/acme/app-0:v1-prod", digest: nil, updatedAt: "2026-11-26T12:00:00Z"))
                #expect(try await client.release(container: "nope", channel: "prod") == nil)
                await #expect(throws: ReleaseChannelClientError.server(status: .badRequest, message: "unknown channel \"qa\"")) {
                    _ = try await client.release(container: "my-app", channel: "qa")
                }
                await #expect(throws: ReleaseChannelClientError.self) { _ = try await client.release(container: "Bad_Name", channel: "dev") }

                let all = try await client.releases(container: "app-2")
                #expect(all.map(\.channel) == ["dev", "stage", "prod"])
                #expect(try await client.releases(container: "nope").isEmpty)

                let batch = try await client.releases(for: [
                    .init(container: "my-app", channel: "dev"), .init(container: "nope", channel: "dev"), .init(container: "Bad_Name", channel: "dev"),
                ])
                #expect(batch.count == 3)
                #expect(batch[0] == .found(ChannelRelease(container: "my-app", channel: "dev", image: "ghcr.io/acme/app-0:v1-dev", digest: nil, updatedAt: "2026-11-26T12:00:00Z")))
                #expect(batch[1] == .notFound)
                #expect(batch[2] == .badRequest)

                let revision = try await client.revision()
                #expect(revision.revision.hex == Fixtures.revision(containers: 3, tag: "v1"))
                #expect(revision.releases == 9)
                #expect(revision.containers == 3)

                let snapshot = try await client.snapshot()
                #expect(snapshot.revision == revision.revision)
                #expect(Array(snapshot.json) == Fixtures.bytes(containers: 3))

                #expect(try await client.ping() < .seconds(5))
            }
        }
    }

    /// A request larger than the server's max_frame (64 KiB by default, from its HELLO reply) is refused by
    /// the SDK before it is sent: sent, the server would answer FRAME_TOO_LARGE and close the connection,
    /// failing the other requests in flight on it. Those complete, and the connection stays up.
    @Test func aRequestOverTheServersMaximumFrameIsRefusedBeforeItIsSent() async throws {
        try await withTestServer(configure: { $0.watchFile = false }) { server in
            try await ReleaseChannelClient.withClient(configuration: self.configuration(server.tcpPort)) { client in
                // As long as a `str` may be (65535 bytes), so that the frame (65563 bytes) is what is too large.
                let oversized = String(repeating: "a", count: 65_535)
                async let others = withThrowingTaskGroup(of: ChannelRelease?.self) { group in
                    for _ in 0..<50 { group.addTask { try await client.release(container: "my-app", channel: "prod") } }
                    return try await group.reduce(into: 0) { count, release in count += release == nil ? 0 : 1 }
                }
                do {
                    _ = try await client.release(container: oversized, channel: "prod")
                    Issue.record("an oversized request was sent")
                } catch let error as ReleaseChannelClientError {
                    guard case .invalidRequest(let message) = error else {
                        Issue.record("\(error)")
                        return
                    }
                    #expect(message.contains("larger than the server's maximum frame (65536 bytes)"), "\(message)")
                }
                #expect(try await others == 50)
                #expect(try await client.release(container: "my-app", channel: "prod") != nil)
                #expect(client.state == .ready)
            }
        }
    }

    /// Whatever the server's max_frame, a name longer than a `str` holds (65535 bytes) is refused before it is
    /// sent, by every call that would send it: written, it would be cut at 65535 bytes and looked up as
    /// another name (here the server would answer that cut name BAD_REQUEST).
    /// The same in cached mode, where no request is sent: a name no server can hold is the caller's
    /// error in both modes, not "not found" in one of them.
    @Test(arguments: [false, true])
    func aNameLongerThanAProtocolStringIsRefusedBeforeItIsSent(cached: Bool) async throws {
        try await withTestServer(configure: { $0.watchFile = false; $0.tcpMaximumFrameBytes = 1 << 20 }) { server in
            var configuration = self.configuration(server.tcpPort)
            configuration.cached = cached
            try await ReleaseChannelClient.withClient(configuration: configuration) { client in
                if cached { #expect(try await eventually { client.cachedRevision != nil }) }
                let long = String(repeating: "a", count: 65_536)
                let calls: [(field: String, call: () async throws -> Void)] = [
                    ("container", { _ = try await client.release(container: long, channel: "prod") }),
                    ("channel", { _ = try await client.release(container: "my-app", channel: long) }),
                    ("container", { _ = try await client.releases(container: long) }),
                    ("keys[1].channel", {
                        _ = try await client.releases(for: [.init(container: "my-app", channel: "prod"), .init(container: "my-app", channel: long)])
                    }),
                ]
                for (field, call) in calls {
                    do {
                        try await call()
                        Issue.record("a \(field) of 65536 bytes was sent")
                    } catch let error as ReleaseChannelClientError {
                        #expect(error == .invalidRequest("\(field) is 65536 bytes; a protocol string holds at most 65535"))
                    }
                }
                #expect(try await client.release(container: "my-app", channel: "prod") != nil)
                #expect(client.state == .ready)
            }
        }
    }

    /// With maximumReconnectAttempts, a client that reaches no server gives up: the state becomes
    /// .failed and a call fails at once with .notConnected("gave up …"), while the client stays open.
    @Test func aClientThatReachesNoServerGivesUp() async throws {
        let refusing = try RefusingPort()
        defer { withExtendedLifetime(refusing) {} }
        var configuration = self.configuration(refusing.port)
        configuration.maximumReconnectAttempts = 2
        let client = ReleaseChannelClient(configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            #expect(try await eventually { client.state == .failed }, "state \(client.state)")
            await #expect(throws: ReleaseChannelClientError.self) { _ = try await client.release(container: "my-app", channel: "prod") }
            do {
                _ = try await client.revision()
            } catch let error as ReleaseChannelClientError {
                guard case .notConnected(let message) = error else { throw error }
                #expect(message.hasPrefix("gave up reconnecting to 127.0.0.1:\(refusing.port)"), "\(message)")
            }
            client.close()
            try await group.waitForAll()
        }
    }

    /// A slot that cannot connect while another connection is up does not give up: here the server takes
    /// one connection (its cap) and turns the client's second slot away with BUSY, again and again, past
    /// maximumReconnectAttempts (2), as its rejected-connections counter shows; the slot that gave up had
    /// stopped at 2, leaving the pool smaller for good.
    @Test func aSlotKeepsTryingWhileAnotherConnectionIsUp() async throws {
        try await withTestServer(configure: { $0.tcpMaximumConnections = 1 }) { server in
            var configuration = self.configuration(server.tcpPort)
            configuration.connections = 2
            configuration.maximumReconnectAttempts = 2
            try await ReleaseChannelClient.withClient(configuration: configuration) { client in
                let rejectedSeveralTimes = try await eventually {
                    (metric("release_chan_tcp_rejected_connections_total", in: try await server.request("/metrics").body) ?? 0) >= 4
                }
                #expect(rejectedSeveralTimes)
                #expect(client.state == .ready)
                #expect(try await client.release(container: "my-app", channel: "prod") != nil)
            }
        }
    }

    /// The WATCH is carried by a connection that is up, whichever slot it is. Two servers that take one
    /// connection each (their cap) hold the client's two slots; the server whose connection watches is
    /// killed, and its slot cannot connect again (the other server is full), so the watch moves to the
    /// connection left, and a change of that server's file still arrives. When only slot 0 watched, nothing
    /// arrived while slot 0 was down.
    @Test func theWatchMovesToAConnectionThatIsUp() async throws {
        let directories = try [TemporaryDirectory(), TemporaryDirectory()]
        var servers: [ServerProcess] = []
        for directory in directories {
            try Fixtures.write(Fixtures.bytes(containers: 2, tag: "first"), to: directory.file("db.json"))
            servers.append(try await ServerProcess(arguments: ["--db", directory.file("db.json"), "--tcp-max-connections", "1"], directory: directory))
        }
        var configuration = self.configuration(servers[0].tcpPort, servers[1].tcpPort)
        configuration.connections = 2
        let client = ReleaseChannelClient(configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            let changes = client.revisionChanges()
            let killed = try #require(try await Self.watchedServer(of: servers))
            let survivor = 1 - killed
            servers[killed].signal(SIGKILL)
            #expect(try await servers[killed].waitForExit() != nil)
            #expect(try await eventually(timeout: .seconds(30)) {
                metric("release_chan_tcp_watch_subscribers", in: try await servers[survivor].request("/metrics").body) == 1
            }, "no connection watches once server \(killed)'s is gone")
            try Fixtures.write(Fixtures.bytes(containers: 2, tag: "second"), to: directories[survivor].file("db.json"))
            let change = try await Self.firstChange(of: changes, closing: client, within: .seconds(30))
            #expect(change?.revision.hex == Fixtures.revision(containers: 2, tag: "second"))
            client.close()
            servers[survivor].signal(SIGTERM)
            _ = try await servers[survivor].waitForExit()
            group.cancelAll()
        }
    }

    @Test func tenThousandPipelinedRequestsOnOneConnection() async throws {
        try await withTestServer { server in
            var configuration = self.configuration(server.tcpPort)
            configuration.connections = 1
            try await ReleaseChannelClient.withClient(configuration: configuration) { client in
                let wrong = try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<10_000 {
                        group.addTask {
                            let container = index % 3 == 0 ? "my-app" : "app-\(index % 3)"
                            let channel = ["dev", "stage", "prod"][index % 3]
                            let release = try await client.release(container: container, channel: channel)
                            return release?.image == "ghcr.io/acme/app-\(index % 3):v1-\(channel)" ? 0 : 1
                        }
                    }
                    return try await group.reduce(0, +)
                }
                #expect(wrong == 0)
            }
        }
    }

    @Test func cachedModeAnswersFromMemoryAndFollowsTheFile() async throws {
        try await withTestServer(configure: { $0.reloadInterval = .seconds(3600) }) { server in
            var configuration = self.configuration(server.tcpPort)
            configuration.cached = true
            try await ReleaseChannelClient.withClient(configuration: configuration) { client in
                #expect(try await eventually { client.cachedRevision?.hex == Fixtures.revision(containers: 3, tag: "v1") })
                #expect(try await client.release(container: "my-app", channel: "dev")?.image == "ghcr.io/acme/app-0:v1-dev")
                try Fixtures.write(Fixtures.bytes(containers: 3, tag: "cached"), to: server.databasePath)
                // The goal is well under 1 s (benchmarks/ measures it); the bound here leaves room for a
                // loaded CI machine running other suites in parallel.
                #expect(try await eventually(timeout: .seconds(15)) {
                    try await client.release(container: "my-app", channel: "dev")?.image == "ghcr.io/acme/app-0:cached-dev"
                })
                #expect(client.cachedRevision?.hex == Fixtures.revision(containers: 3, tag: "cached"))
            }
        }
    }

    /// Cached mode takes its snapshot from the server whose pushes it follows: with two servers on different
    /// dbs (one reloaded, the other not yet, say), the cache holds the watched server's db, not whichever the
    /// request pool would have picked.
    @Test func cachedModeHoldsTheWatchedServersDatabase() async throws {
        let tags = ["east", "west"]
        var servers: [ServerProcess] = []
        for tag in tags {
            let directory = try TemporaryDirectory()
            try Fixtures.write(Fixtures.bytes(containers: 2, tag: tag), to: directory.file("db.json"))
            servers.append(try await ServerProcess(arguments: ["--db", directory.file("db.json")], directory: directory))
        }
        var configuration = self.configuration(servers[0].tcpPort, servers[1].tcpPort)
        configuration.connections = 2
        configuration.cached = true
        try await ReleaseChannelClient.withClient(configuration: configuration) { client in
            let tag = tags[try #require(try await Self.watchedServer(of: servers))]
            #expect(try await eventually { client.cachedRevision?.hex == Fixtures.revision(containers: 2, tag: tag) }, "cache at \(client.cachedRevision?.hex ?? "none")")
            #expect(try await client.release(container: "my-app", channel: "dev")?.image == "ghcr.io/acme/app-0:\(tag)-dev")
        }
        for server in servers {
            server.signal(SIGTERM)
            _ = try await server.waitForExit()
        }
    }

    /// A SNAPSHOT has a timeout of its own (the whole db takes longer than a lookup; here one too short for
    /// it, while lookups keep theirs), and a frame limit of
    /// `Int.max` means no limit (16 times it overflowed); a name over the protocol's 64 bytes is cut at a
    /// character, not into a U+FFFD that made it 65 bytes, which the server refused, so no handshake worked.
    @Test func snapshotsHaveTheirOwnTimeoutAndLimitsDoNotOverflow() async throws {
        try await withTestServer { server in
            var configuration = self.configuration(server.tcpPort)
            configuration.connectTimeout = .seconds(10)
            configuration.snapshotTimeout = .nanoseconds(1)
            configuration.maximumFrameBytes = .max
            configuration.clientName = String(repeating: "a", count: 62) + "😀"
            try await ReleaseChannelClient.withClient(configuration: configuration) { client in
                await #expect(throws: ReleaseChannelClientError.timeout) { try await client.snapshot() }
                let image = try await client.release(container: "my-app", channel: "dev")?.image
                #expect(image == "ghcr.io/acme/app-0:v1-dev", "other requests keep requestTimeout")
            }
        }
    }

    @Test func watchDeliversEverySwapInOrder() async throws {
        try await withTestServer(configure: {
            $0.watchFile = false
            $0.reloadInterval = .seconds(3600)
        }) { server in
            try await ReleaseChannelClient.withClient(configuration: self.configuration(server.tcpPort)) { client in
                let changes = client.revisionChanges()
                // Wait for the watch subscription (slot 0) to be in place.
                #expect(try await eventually {
                    String(decoding: try await server.request("/metrics").body, as: UTF8.self).contains("release_chan_tcp_watch_subscribers 1")
                })
                let tags = (1...6).map { "swap\($0)" }
                for tag in tags {
                    try Fixtures.write(Fixtures.bytes(containers: 3, tag: tag), to: server.databasePath)
                    #expect(try await server.request("POST", "/v1/reload").json["changed"] as? Bool == true)
                }
                var received: [String] = []
                for await change in changes {
                    received.append(change.revision.hex)
                    if received.count == tags.count { break }
                }
                #expect(received == tags.map { Fixtures.revision(containers: 3, tag: $0) })
            }
        }
    }

    @Test func reconnectsAfterAServerRestart() async throws {
        let directory = try TemporaryDirectory()
        try Fixtures.write(Fixtures.bytes(containers: 2, tag: "first"), to: directory.file("db.json"))
        let port = try Self.freePort()
        var server: ServerProcess? = try await ServerProcess(arguments: ["--db", directory.file("db.json"), "--tcp-port", "\(port)"], directory: directory)
        let client = ReleaseChannelClient(configuration: self.configuration(port))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            try await client.waitUntilReady(timeout: .seconds(30))
            let states = client.stateChanges()
            #expect(try await client.release(container: "my-app", channel: "dev")?.image == "ghcr.io/acme/app-0:first-dev")
            let changes = client.revisionChanges()
            // The first revision is known once slot 0's WATCH is answered; a change needs one to differ from.
            #expect(try await eventually {
                String(decoding: try await server?.request("/metrics").body ?? Data(), as: UTF8.self).contains("release_chan_tcp_watch_subscribers 1")
            })
            server?.signal(SIGTERM)
            #expect(try await server?.waitForExit() == 0)
            server = nil
            #expect(try await eventually { client.state == .reconnecting })
            try Fixtures.write(Fixtures.bytes(containers: 2, tag: "second"), to: directory.file("db.json"))
            let restarted = try await ServerProcess(arguments: ["--db", directory.file("db.json"), "--tcp-port", "\(port)"], directory: directory)
            #expect(try await eventually(timeout: .seconds(30)) { client.state == .ready })
            #expect(try await client.release(container: "my-app", channel: "dev")?.image == "ghcr.io/acme/app-0:second-dev")
            // The swap happened while the client was away: noticed on reconnecting, without counts.
            let change = try await Self.firstChange(of: changes, closing: client, within: .seconds(30))
            #expect(change?.revision.hex == Fixtures.revision(containers: 2, tag: "second"))
            #expect(change != nil && change?.releases == nil && change?.containers == nil)
            client.close()
            // stateChanges: the state when subscribed, each change, and .failed at close, then the end.
            var seen: [ReleaseChannelClient.State] = []
            for await state in states { seen.append(state) }
            #expect(seen.first == .ready && seen.last == .failed, "\(seen)")
            let lost = try #require(seen.firstIndex(of: .reconnecting), "\(seen)")
            #expect(seen[lost...].contains(.ready), "\(seen)")
            restarted.signal(SIGTERM)
            _ = try await restarted.waitForExit()
            group.cancelAll()
        }
    }

    @Test func aSecondEndpointTakesOverWhileTheFirstIsDown() async throws {
        try await withTestServer(database: Fixtures.bytes(containers: 2, tag: "backup")) { backup in
            let directory = try TemporaryDirectory()
            try Fixtures.write(Fixtures.bytes(containers: 2, tag: "primary"), to: directory.file("db.json"))
            let primary = try await ServerProcess(arguments: ["--db", directory.file("db.json")], directory: directory)
            var configuration = self.configuration(primary.tcpPort, backup.tcpPort)
            configuration.connections = 1
            let client = ReleaseChannelClient(configuration: configuration)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                try await client.waitUntilReady(timeout: .seconds(30))
                #expect(try await client.release(container: "my-app", channel: "dev")?.image == "ghcr.io/acme/app-0:primary-dev")
                primary.signal(SIGKILL)
                #expect(try await eventually(timeout: .seconds(30)) {
                    try await client.release(container: "my-app", channel: "dev")?.image == "ghcr.io/acme/app-0:backup-dev"
                })
                client.close()
                group.cancelAll()
            }
        }
    }

    @Test func gracefulShutdownAnswersEveryPipelinedRequestItRead() async throws {
        let directory = try TemporaryDirectory()
        let bytes = try Array(Data(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("db/db.json")))
        try Fixtures.write(bytes, to: directory.file("db.json"))
        let server = try await ServerProcess(arguments: ["--db", directory.file("db.json"), "--drain-delay", "1s"], directory: directory)
        let socket = try RawSocket(port: server.tcpPort)
        try await socket.send(try ProtocolServerTests.vector("hello-request"))
        _ = try await socket.readFrame()
        var burst: [UInt8] = []
        for _ in 0..<2000 { burst += try ProtocolServerTests.vector("get-request") }
        try await socket.send(burst)
        server.signal(SIGTERM)
        var answered = 0
        while let frame = try await socket.readFrame() {
            if frame[5] == 0x03, frame[7] == 0 { answered += 1 }
        }
        #expect(answered == 2000, "every request read before the shutdown is answered, then the connection closes")
        #expect(try await server.waitForExit() == 0)
    }

    /// Requests sent to a server that dies before answering them go again on the other connection (§13.2:
    /// version 1 requests have no side effects), so none of them fails. Server A is stopped (SIGSTOP) so that
    /// the half of the requests the pool sends it wait there; once B has answered the other half, A is killed.
    /// With four connections, two on each server, a resend goes to B, not to A's other connection, which
    /// still looks active for a moment after A died.
    @Test(arguments: [2, 4])
    func requestsToADyingServerAreSentAgainOnAnotherConnection(connections: Int) async throws {
        var servers: [ServerProcess] = []
        for tag in ["a", "b"] {
            let directory = try TemporaryDirectory()
            try Fixtures.write(Fixtures.bytes(containers: 2, tag: tag), to: directory.file("db.json"))
            servers.append(try await ServerProcess(arguments: ["--db", directory.file("db.json")], directory: directory))
        }
        let (a, b) = (servers[0], servers[1])
        defer {
            a.signal(SIGKILL)
            b.signal(SIGKILL)
        }
        var configuration = self.configuration(a.tcpPort, b.tcpPort)
        configuration.connections = connections
        let client = ReleaseChannelClient(configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            #expect(
                try await Self.watchedServer(of: servers, perServer: Double(connections / 2)) != nil,
                "the client never had \(connections / 2) connections on each server"
            )
            a.signal(SIGSTOP)
            // kill(2) returns before the process has stopped; on a loaded machine it answered a few more.
            #expect(try await eventually { Self.processState(a.pid) == "T" }, "server A did not stop")
            let answered = Count()
            async let images = withThrowingTaskGroup(of: String?.self) { lookups in
                for _ in 0..<20 {
                    lookups.addTask {
                        let image = try await client.release(container: "my-app", channel: "dev")?.image
                        answered.value.withLock { $0 += 1 }
                        return image
                    }
                }
                return try await lookups.reduce(into: []) { $0.append($1) }
            }
            // Round-robin over the two connections: B answers its ten, A's ten wait in A's socket.
            #expect(try await eventually { answered.value.withLock { $0 } == 10 })
            a.signal(SIGKILL)
            let results = try await images
            #expect(results.count == 20)
            #expect(results.allSatisfy { $0 == "ghcr.io/acme/app-0:b-dev" }, "\(results)")
            client.close()
            group.cancelAll()
        }
    }

    /// Failover gets one connectTimeout per endpoint: the first endpoint here takes the TCP connection and
    /// never answers the HELLO, and `withClient` still comes up on the second. It used to wait one
    /// connectTimeout in all, which the hung endpoint used up (the CLI's `--tcp A --tcp B` failed).
    @Test func withClientFailsOverPastAnEndpointThatNeverAnswers() async throws {
        let silent = try await SilentListener()
        defer { silent.close() }
        try await withTestServer(database: Fixtures.bytes(containers: 2, tag: "second")) { server in
            var configuration = self.configuration(silent.port, server.tcpPort)
            configuration.connections = 1
            // The hung endpoint takes all of it; the second endpoint's connect gets as long again, which a
            // loaded 2-core machine needs.
            configuration.connectTimeout = .seconds(8)
            let image = try await ReleaseChannelClient.withClient(configuration: configuration) { client in
                try await client.release(container: "my-app", channel: "dev")?.image
            }
            #expect(image == "ghcr.io/acme/app-0:second-dev")
        }
    }

    /// Closing a client ends a connect in progress: `run()` returns at once, not when the connect timeout
    /// (here 60 s) passes for an endpoint that never answers the HELLO.
    @Test func closingTheClientEndsAConnectInProgress() async throws {
        let silent = try await SilentListener()
        defer { silent.close() }
        var configuration = self.configuration(silent.port)
        configuration.connections = 1
        configuration.connectTimeout = .seconds(60)
        let client = ReleaseChannelClient(configuration: configuration)
        let returned = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                await client.run()
                return true
            }
            // The TCP connection is up and the HELLO sent: the connect is in progress.
            var accepted = silent.accepted.makeAsyncIterator()
            _ = await accepted.next()
            client.close()
            group.addTask {
                try await Task.sleep(for: .seconds(20))
                return false
            }
            defer { group.cancelAll() }
            return try await group.next() ?? false
        }
        #expect(returned, "run() still waited for the HELLO after close()")
    }

    /// A db that decompresses to more than maximumDecompressedBytes fails the call with responseTooLarge and
    /// leaves the connection up (the frame was read whole; it used to be a protocol violation that closed the
    /// connection, on every retry). Cached mode reports it in cacheStatus and waits for the next revision.
    @Test func aSnapshotOverTheDecompressedLimitFailsTheCallNotTheConnection() async throws {
        try await withTestServer(configure: { $0.watchFile = false }) { server in
            var configuration = self.configuration(server.tcpPort)
            configuration.cached = true
            configuration.maximumDecompressedBytes = 100
            try await ReleaseChannelClient.withClient(configuration: configuration) { client in
                #expect(try await eventually { client.cacheStatus.lastError != nil })
                let status = client.cacheStatus
                guard case .responseTooLarge? = status.lastError else {
                    Issue.record("\(status)")
                    return
                }
                #expect(status.revision == nil && status.serverRevision?.hex == Fixtures.revision(containers: 3, tag: "v1") && !status.isCurrent)
                // Asked directly, a SNAPSHOT fails alike, on each connection in turn, and they stay up: the
                // lookups after them are answered on the same two connections.
                for _ in 0..<4 {
                    let error = await #expect(throws: ReleaseChannelClientError.self) { _ = try await client.snapshot() }
                    guard case .responseTooLarge? = error else {
                        Issue.record("\(String(describing: error))")
                        return
                    }
                }
                #expect(try await client.release(container: "my-app", channel: "prod")?.image == "ghcr.io/acme/app-0:v1-prod")
                let metrics = try await server.request("/metrics").body
                #expect(metric("release_chan_tcp_connections", in: metrics) == 2)
                #expect(client.cacheStatus.failedRefreshes == 1, "a db too large was fetched again without a new revision")
            }
        }
    }

    /// The first change `changes` delivers, or nil when none comes within `timeout` (then `client` is
    /// closed, which ends the stream and with it the wait).
    /// The index of the server the client's WATCH is on, once the client has one connection on each of the
    /// two servers (each slot starts at its own endpoint) and one of them watches; nil if that never comes.
    /// The index of the server the client's WATCH is on, once each server has `perServer` connections.
    static func watchedServer(of servers: [ServerProcess], perServer: Double = 1) async throws -> Int? {
        var watched: Int?
        let settled = try await eventually {
            var connections: [Double?] = []
            var watchers: [Double?] = []
            for server in servers {
                let metrics = try await server.request("/metrics").body
                connections.append(metric("release_chan_tcp_connections", in: metrics))
                watchers.append(metric("release_chan_tcp_watch_subscribers", in: metrics))
            }
            watched = watchers.firstIndex(of: 1)
            return connections == servers.map { _ in perServer } && watchers.compactMap { $0 }.reduce(0, +) == 1
        }
        return settled ? watched : nil
    }

    static func firstChange(
        of changes: AsyncStream<RevisionChange>,
        closing client: ReleaseChannelClient,
        within timeout: Duration
    ) async throws -> RevisionChange? {
        try await withThrowingTaskGroup(of: RevisionChange?.self) { race in
            race.addTask {
                for await change in changes { return change }
                return nil
            }
            race.addTask {
                try await Task.sleep(for: timeout)
                client.close()
                return nil
            }
            defer { race.cancelAll() }
            return try await race.next() ?? nil
        }
    }

    /// The state letter of a process in /proc (`R`, `S`, `T` for stopped, …).
    static func processState(_ pid: Int32) -> Character? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return nil }
        // The command name in parentheses may hold spaces; the state follows it.
        return stat[end...].dropFirst(2).first
    }

    static func freePort() throws -> Int {
        let socket = try ServerSocketProbe()
        return socket.port
    }
}

/// A count shared by concurrent tasks.
final class Count: Sendable {
    let value = Mutex(0)
}

/// Binds an ephemeral port and releases it, to learn a port number that is free right now.
struct ServerSocketProbe {
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else { throw TestFailure("cannot probe a free port") }
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }
}
