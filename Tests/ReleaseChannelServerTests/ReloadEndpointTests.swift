import ReleaseChannelTestSupport
import Foundation
import ReleaseChannelServer
import Testing

@Suite struct ReloadEndpointTests {
    @Test func reloadReportsWhetherTheRevisionChanged() async throws {
        try await withTestServer(configure: { $0.watchFile = false }) { server in
            let unchanged = try await server.request("POST", "/v1/reload")
            #expect(unchanged.status == 200)
            #expect(unchanged.json["changed"] as? Bool == false)
            #expect(unchanged.json["revision"] as? String == Fixtures.revision(containers: 3, tag: "v1"))

            try Fixtures.write(Fixtures.bytes(containers: 3, tag: "v2"), to: server.databasePath)
            let changed = try await server.request("POST", "/v1/reload")
            #expect(changed.status == 200)
            #expect(changed.json["changed"] as? Bool == true)
            #expect(changed.json["revision"] as? String == Fixtures.revision(containers: 3, tag: "v2"))
            let release = try await server.request("/v1/releases/my-app/dev")
            #expect(release.json["image"] as? String == "ghcr.io/acme/app-0:v2-dev")
        }
    }

    @Test func aBadFileIs422AndTheOldRevisionKeepsServing() async throws {
        try await withTestServer(configure: { $0.watchFile = false }) { server in
            let bad = #"{"schema_version": 1, "channels": ["dev"], "releases": [{"container": "x", "channel": "dev", "image": "X", "updated_at": "now"}]}"#
            try Fixtures.write(Array(bad.utf8), to: server.databasePath)
            let response = try await server.request("POST", "/v1/reload")
            #expect(response.status == 422)
            #expect(response.errorCode == "invalid_database")
            #expect(response.json["revision"] as? String == Fixtures.revision(containers: 3, tag: "v1"))
            let details = try #require((response.json["error"] as? [String: Any])?["details"] as? [[String: Any]])
            #expect(details.map { $0["path"] as? String } == ["releases[0].image", "releases[0].updated_at"])
            #expect(details[0]["line"] as? Int == 1)
            #expect(details[0]["column"] as? Int == 103)
            let served = try await server.request("/v1/releases/my-app/dev")
            #expect(served.status == 200)
            #expect(served.json["image"] as? String == "ghcr.io/acme/app-0:v1-dev")
        }
    }

    @Test func anAdminTokenIsRequiredWhenConfigured() async throws {
        try await withTestServer(configure: { $0.adminToken = "s3cret-token" }) { server in
            let missing = try await server.request("POST", "/v1/reload")
            #expect(missing.status == 401)
            #expect(missing.errorCode == "unauthorized")
            #expect(missing.header("WWW-Authenticate") == "Bearer realm=\"release-chan\"")
            let wrong = try await server.request("POST", "/v1/reload", headers: ["Authorization": "Bearer s3cret-tokem"])
            #expect(wrong.status == 401)
            let short = try await server.request("POST", "/v1/reload", headers: ["Authorization": "Bearer s3cret"])
            #expect(short.status == 401)
            let basic = try await server.request("POST", "/v1/reload", headers: ["Authorization": "Basic czNjcmV0LXRva2Vu"])
            #expect(basic.status == 401)
            let right = try await server.request("POST", "/v1/reload", headers: ["Authorization": "Bearer s3cret-token"])
            #expect(right.status == 200)
            // The scheme name is case-insensitive (RFC 9110 §11.1), and one or more spaces follow it.
            for value in ["bearer s3cret-token", "BEARER s3cret-token", "Bearer   s3cret-token"] {
                let response = try await server.request("POST", "/v1/reload", headers: ["Authorization": value])
                #expect(response.status == 200, "\(value)")
            }
            for value in ["Bearers3cret-token", "Bearer", "Bearer ", "Bearerx s3cret-token"] {
                let response = try await server.request("POST", "/v1/reload", headers: ["Authorization": value])
                #expect(response.status == 401, "\(value)")
            }
        }
    }

    @Test func aLargeRequestBodyIs413() async throws {
        try await withTestServer { server in
            let response = try await server.request("POST", "/v1/reload", body: Data(repeating: 0x41, count: 4096))
            #expect(response.status == 413)
            #expect(response.errorCode == "payload_too_large")
            let small = try await server.request("POST", "/v1/reload", body: Data("{}".utf8))
            #expect(small.status == 200)
        }
    }

    /// An empty token in the environment turned token auth off without a word, where an empty token
    /// file is refused: both are usage errors now.
    @Test(arguments: ["", "  ", "\n"])
    func anEmptyAdminTokenVariableIsAUsageError(value: String) async throws {
        let directory = try TemporaryDirectory()
        try Fixtures.write(Fixtures.bytes(containers: 1), to: directory.file("db.json"))
        var environment = ProcessInfo.processInfo.environment
        environment["RELEASE_CHAN_ADMIN_TOKEN"] = value
        // Under `timeout`: a server that takes the empty token serves until stopped.
        let result = try await Subprocess.run(
            "/usr/bin/timeout",
            ["10", Fixtures.executable.path, "serve", "--db", directory.file("db.json"), "--host", "127.0.0.1", "--http-port", "0", "--tcp-port", "0"],
            environment: environment
        )
        #expect(result.status == 2)
        #expect(result.standardError.contains("RELEASE_CHAN_ADMIN_TOKEN is set but empty"), "\(result.standardError)")
        try Fixtures.write([], to: directory.file("token"))
        let file = try await Subprocess.run(
            "/usr/bin/timeout",
            ["10", Fixtures.executable.path, "serve", "--db", directory.file("db.json"), "--admin-token-file", directory.file("token"), "--host", "127.0.0.1", "--http-port", "0", "--tcp-port", "0"]
        )
        #expect(file.status == 2)
        #expect(file.standardError.contains("is empty"), "\(file.standardError)")
    }

    /// During the drain delay after SIGTERM, while `/v1/ready` is 503, a reload is refused, not carried out.
    @Test func aReloadDuringTheDrainIs503() async throws {
        let directory = try TemporaryDirectory()
        try Fixtures.write(Fixtures.bytes(containers: 2), to: directory.file("db.json"))
        let server = try await ServerProcess(
            arguments: ["--db", directory.file("db.json"), "--watch", "false", "--drain-delay", "5s"],
            directory: directory
        )
        #expect(try await server.request("POST", "/v1/reload").status == 200)
        server.signal(SIGTERM)
        #expect(try await eventually(timeout: .seconds(4)) { try await server.request("/v1/ready").status == 503 })
        let refused = try await server.request("POST", "/v1/reload")
        #expect(refused.status == 503)
        #expect(refused.errorCode == "not_ready")
        let reloads = try #require(try await server.request("/v1/health").json["reloads"] as? [String: Any])
        #expect(reloads["succeeded"] as? Int == 2, "the reload was carried out")
        #expect(try await server.waitForExit() == 0)
    }
}
