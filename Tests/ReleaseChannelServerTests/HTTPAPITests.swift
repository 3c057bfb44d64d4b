import ReleaseChannelTestSupport
import Foundation
import ReleaseChannelModel
import ReleaseChannelServer
import Testing

@Suite struct HTTPAPITests {
    @Test func healthAndReadiness() async throws {
        try await withTestServer { server in
            let health = try await server.request("/v1/health")
            #expect(health.status == 200)
            let json = health.json
            #expect(json["status"] as? String == "ok")
            #expect(json["revision"] as? String == Fixtures.revision(containers: 3, tag: "v1"))
            #expect(json["releases"] as? Int == 9)
            #expect(json["containers"] as? Int == 3)
            #expect((json["loaded_at"] as? String)?.hasSuffix("Z") == true)
            let lastReload = try #require(json["last_reload"] as? [String: Any])
            #expect(lastReload["error"] is NSNull)
            #expect(health.header("Cache-Control") == "no-store")

            let ready = try await server.request("/v1/ready")
            #expect(ready.status == 200)
            #expect(ready.json["ready"] as? Bool == true)
        }
    }

    @Test func releaseLookups() async throws {
        try await withTestServer { server in
            let revision = Fixtures.revision(containers: 3, tag: "v1")
            let container = try await server.request("/v1/releases?container=my-app")
            #expect(container.status == 200)
            #expect(container.json["revision"] as? String == revision)
            #expect(container.json["container"] as? String == "my-app")
            let releases = try #require(container.json["releases"] as? [[String: Any]])
            #expect(releases.map { $0["channel"] as? String } == ["dev", "stage", "prod"])
            #expect(releases[2]["image"] as? String == "ghcr.io/acme/app-0:v1-prod")
            #expect(container.header("ETag") == "\"\(revision)\"")
            #expect(container.header("X-Release-Revision") == revision)
            #expect(container.header("Content-Type") == "application/json; charset=utf-8")

            let byPath = try await server.request("/v1/releases/my-app")
            #expect(byPath.body == container.body)

            let filtered = try await server.request("/v1/releases?container=my-app&channel=stage")
            #expect(filtered.status == 200)
            let filteredReleases = try #require(filtered.json["releases"] as? [[String: Any]])
            #expect(filteredReleases.count == 1)
            #expect(filteredReleases[0]["image"] as? String == "ghcr.io/acme/app-0:v1-stage")
            #expect(filtered.json["revision"] as? String == revision)

            let single = try await server.request("/v1/releases/app-2/prod")
            #expect(single.status == 200)
            #expect(single.json["container"] as? String == "app-2")
            #expect(single.json["image"] as? String == "ghcr.io/acme/app-2:v1-prod")
            #expect((single.json["source"] as? [String: Any])?["run_id"] as? Int == 3)
            #expect(single.header("ETag") == "\"\(revision)\"")

            let channels = try await server.request("/v1/channels")
            #expect(channels.json["channels"] as? [String] == ["dev", "stage", "prod"])
            #expect(channels.json["revision"] as? String == revision)

            let whole = try await server.request("/v1/releases")
            #expect(whole.status == 200)
            #expect(Array(whole.body) == Fixtures.bytes(containers: 3), "the whole db is the canonical file")
        }
    }

    @Test(arguments: [
        ("/v1/releases?container=Bad_Name", 400, "bad_parameter"),
        ("/v1/releases?container=my-app&channel=qa", 400, "bad_parameter"),
        ("/v1/releases?channel=dev", 400, "bad_parameter"),
        ("/v1/releases?container=my-app&colour=red", 400, "bad_parameter"),
        ("/v1/releases?container=my-app&container=app-1", 400, "bad_parameter"),
        ("/v1/releases/my-app/qa", 400, "bad_parameter"),
        ("/v1/releases?container=unknown", 404, "not_found"),
        ("/v1/releases/unknown", 404, "not_found"),
        ("/v1/releases/unknown/dev", 404, "not_found"),
        // An unknown channel is a bad request whatever the container, as in the binary protocol.
        ("/v1/releases/unknown/qa", 400, "bad_parameter"),
        ("/v1/releases?container=unknown&channel=qa", 400, "bad_parameter"),
        ("/v1/nothing-here", 404, "not_found"),
    ])
    func errorsAreJSONWithTheRightStatus(path: String, status: Int, code: String) async throws {
        try await withTestServer { server in
            let response = try await server.request(path)
            #expect(response.status == status)
            #expect(response.errorCode == code)
            let message = (response.json["error"] as? [String: Any])?["message"] as? String
            #expect(message?.isEmpty == false)
            #expect(response.header("Content-Type") == "application/json; charset=utf-8")
        }
    }

    /// The router skips empty path segments; without a check these would answer for the container
    /// "prod" (404) and for my-app's prod release (200), not for what the client asked.
    @Test(arguments: ["/v1/releases//prod", "/v1/releases/app-1//prod", "/v1/releases/app-1//"])
    func anEmptyPathSegmentIs400(path: String) async throws {
        try await withTestServer { server in
            #expect(try await server.request("/v1/releases/app-1/prod").status == 200)
            let response = try await server.request(path)
            #expect(response.status == 400)
            #expect(response.errorCode == "bad_parameter")
            let message = (response.json["error"] as? [String: Any])?["message"] as? String
            #expect(message == "empty path segment in \"\(path)\"")
        }
    }

    @Test func missingChannelOfAKnownContainerIs404() async throws {
        var database = Fixtures.database(containers: 2)
        database.remove(container: "app-1", channel: "prod")
        try await withTestServer(database: CanonicalEncoder.encode(database)) { server in
            let response = try await server.request("/v1/releases/app-1/prod")
            #expect(response.status == 404)
            #expect(response.errorCode == "not_found")
            let filtered = try await server.request("/v1/releases?container=app-1&channel=prod")
            #expect(filtered.status == 404)
        }
    }

    @Test(arguments: [
        ("DELETE", "/v1/releases", "GET, HEAD"),
        ("POST", "/v1/releases/my-app", "GET, HEAD"),
        ("PUT", "/v1/releases/my-app/dev", "GET, HEAD"),
        ("PATCH", "/v1/channels", "GET, HEAD"),
        ("POST", "/v1/health", "GET, HEAD"),
        ("DELETE", "/v1/ready", "GET, HEAD"),
        ("PUT", "/metrics", "GET, HEAD"),
        ("GET", "/v1/reload", "POST"),
    ])
    func wrongMethodIs405WithAllow(method: String, path: String, allow: String) async throws {
        try await withTestServer { server in
            let response = try await server.request(method, path)
            #expect(response.status == 405)
            #expect(response.header("Allow") == allow)
            #expect(response.errorCode == "method_not_allowed")
        }
    }

    @Test func conditionalRequestsAnswer304() async throws {
        try await withTestServer { server in
            let first = try await server.request("/v1/releases?container=my-app")
            let etag = try #require(first.header("ETag"))
            for tag in [etag, "W/\(etag)", "\"other\", \(etag)", "*"] {
                let again = try await HTTP.curl(["-H", "If-None-Match: \(tag)", "\(server.baseURL)/v1/releases?container=my-app"])
                #expect(again.status == 304, "If-None-Match: \(tag)")
                #expect(again.body.isEmpty)
                #expect(again.header("ETag") == etag)
            }
            let stale = try await HTTP.curl(["-H", "If-None-Match: \"0000000000000000\"", "\(server.baseURL)/v1/releases?container=my-app"])
            #expect(stale.status == 200)
            #expect(stale.body == first.body)
        }
    }

    @Test func wholeDatabaseIsServedPrecompressed() async throws {
        try await withTestServer(database: Fixtures.bytes(containers: 50)) { server in
            let revision = Fixtures.revision(containers: 50, tag: "v1")
            let gzip = try await HTTP.curl(["-H", "Accept-Encoding: gzip", "\(server.baseURL)/v1/releases"])
            #expect(gzip.status == 200)
            #expect(gzip.header("Content-Encoding") == "gzip")
            #expect(gzip.header("ETag") == "\"\(revision)-gzip\"")
            #expect(gzip.header("Vary") == "Accept-Encoding")
            #expect(gzip.body.count < Fixtures.bytes(containers: 50).count / 3)
            // The bytes on the wire are a real gzip stream of the canonical file.
            let directory = try TemporaryDirectory()
            try gzip.body.write(to: URL(fileURLWithPath: directory.file("db.json.gz")))
            let gunzip = try await Subprocess.run("/bin/gzip", ["-d", "-k", directory.file("db.json.gz")])
            #expect(gunzip.status == 0, "\(gunzip.standardError)")
            #expect(FileManager.default.contents(atPath: directory.file("db.json")).map(Array.init) == Fixtures.bytes(containers: 50))

            let refused = try await HTTP.curl(["-H", "Accept-Encoding: gzip;q=0, identity", "\(server.baseURL)/v1/releases"])
            #expect(refused.header("Content-Encoding") == nil)
            #expect(Array(refused.body) == Fixtures.bytes(containers: 50))

            let notModified = try await HTTP.curl(["-H", "Accept-Encoding: gzip", "-H", "If-None-Match: \"\(revision)-gzip\"", "\(server.baseURL)/v1/releases"])
            #expect(notModified.status == 304)

            // Through the router (a conditional request that does not match) rather than the fast
            // path's sendfile: the same bytes, copied from the form's file.
            let routed = try await HTTP.curl(["-H", "Accept-Encoding: gzip", "-H", "If-None-Match: \"stale\"", "\(server.baseURL)/v1/releases"])
            #expect(routed.status == 200)
            #expect(routed.header("Content-Encoding") == "gzip")
            #expect(routed.header("Content-Length") == "\(gzip.body.count)")
            #expect(routed.body == gzip.body)
        }
    }

    @Test func aClientWithoutGzipGetsTheFileInflatedFromTheGzipForm() async throws {
        // Several inflate chunks' worth; the server holds only the gzip form once it has compressed it.
        let bytes = Fixtures.bytes(containers: 2_000)
        #expect(bytes.count > 3 * 256 * 1024)
        try await withTestServer(database: bytes) { server in
            let plain = try await HTTP.curl(["\(server.baseURL)/v1/releases"])
            #expect(plain.status == 200)
            #expect(plain.header("Content-Encoding") == nil)
            #expect(plain.header("Content-Length") == "\(bytes.count)")
            #expect(plain.header("ETag") == "\"\(Fixtures.revision(containers: 2_000, tag: "v1"))\"")
            #expect(Array(plain.body) == bytes)
            let head = try await RawHTTP.exchange(
                port: server.port,
                request: "HEAD /v1/releases HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            )
            #expect(head.hasPrefix("HTTP/1.1 200 OK"))
            #expect(head.hasSuffix("\r\n\r\n"), "HEAD sent a body")
        }
    }

    @Test func headAnswersHeadersWithoutBody() async throws {
        try await withTestServer { server in
            for path in ["/v1/releases", "/v1/releases?container=my-app", "/v1/releases/my-app/dev", "/v1/channels", "/v1/health", "/metrics"] {
                let get = try await HTTP.curl(["\(server.baseURL)\(path)"])
                let wire = try await RawHTTP.exchange(
                    port: server.port,
                    request: "HEAD \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                )
                let parts = wire.components(separatedBy: "\r\n\r\n")
                #expect(parts.first?.hasPrefix("HTTP/1.1 200 OK") == true, "\(path)")
                #expect(parts.count == 2 && parts[1].isEmpty, "HEAD \(path) sent a body: \(wire)")
                let head = parts[0].lowercased()
                #expect(head.contains("content-type: \(get.header("Content-Type")?.lowercased() ?? "")"), "\(path)")
                if let etag = get.header("ETag") { #expect(head.contains("etag: \(etag.lowercased())"), "\(path)") }
            }
            let missing = try await RawHTTP.exchange(
                port: server.port,
                request: "HEAD /v1/releases/unknown/dev HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            )
            #expect(missing.hasPrefix("HTTP/1.1 404"))
        }
    }

    @Test func metricsExposeRequestsReloadsAndTheSnapshot() async throws {
        try await withTestServer { server in
            _ = try await server.request("/v1/releases?container=my-app")
            _ = try await server.request("/v1/releases?container=unknown")
            _ = try await server.request("POST", "/v1/reload")
            let metrics = try await server.request("/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
            let text = String(decoding: metrics.body, as: UTF8.self)
            let revision = Fixtures.revision(containers: 3, tag: "v1")
            #expect(text.contains(#"release_chan_http_requests_total{route="/v1/releases",method="GET",status="200"} 1"#))
            #expect(text.contains(#"release_chan_http_requests_total{route="/v1/releases",method="GET",status="404"} 1"#))
            #expect(text.contains("release_chan_http_request_duration_seconds_bucket{"))
            #expect(text.contains(#"release_chan_reloads_total{result="unchanged",trigger="api"} 1"#))
            #expect(text.contains("release_chan_revision_info{revision=\"\(revision)\"} 1"))
            #expect(text.contains("release_chan_releases 9"))
            #expect(text.contains("release_chan_containers 3"))
            #expect(text.contains("release_chan_snapshot_age_seconds "))
        }
    }
}
