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
}
