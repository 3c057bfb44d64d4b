import ReleaseChannelTestSupport
import Foundation
import Testing

/// The fast path against the real server: its answers are the router's, byte for byte, and requests
/// it answers and requests the router answers keep their order on one connection (the handler's own
/// cases are in RawReleaseLookupTests).
@Suite struct HTTPFastPathTests {
    /// One response read off a keep-alive connection: the status line and headers without `Date`, and
    /// the body.
    func readResponse(_ socket: RawSocket) async throws -> (head: [String], body: [UInt8]) {
        var header: [UInt8] = []
        while !header.reversed().starts(with: Array("\n\r\n\r".utf8)) {
            guard let byte = try await socket.read(exactly: 1) else { throw TestFailure("closed after \(header.count) bytes") }
            header += byte
        }
        let lines = String(decoding: header, as: UTF8.self).split(separator: "\r\n").map(String.init)
        let length = lines.first { $0.lowercased().hasPrefix("content-length:") }.flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        let body = length == 0 ? [] : (try await socket.read(exactly: length) ?? [])
        return (lines.filter { !$0.lowercased().hasPrefix("date:") }, body)
    }

    @Test func fastPathAnswersAreTheRoutersAnswers() async throws {
        try await withTestServer { server in
            let socket = try RawSocket(port: server.port)
            for (path, encoding) in [("/v1/releases/my-app/dev", ""), ("/v1/releases", ""), ("/v1/releases", "Accept-Encoding: gzip\r\n")] {
                // The same resource; the empty query sends the second request through the router.
                try await socket.send("GET \(path) HTTP/1.1\r\nHost: t\r\n\(encoding)\r\n")
                let fast = try await self.readResponse(socket)
                try await socket.send("GET \(path)? HTTP/1.1\r\nHost: t\r\n\(encoding)\r\n")
                let routed = try await self.readResponse(socket)
                #expect(fast.head == routed.head, "\(path) \(encoding)")
                #expect(fast.body == routed.body, "\(path) \(encoding)")
                #expect(fast.head.first == "HTTP/1.1 200 OK")
            }
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withTestServer { server in
            let socket = try RawSocket(port: server.port)
            let paths = ["/v1/releases/my-app/dev", "/v1/health", "/v1/releases/my-app/prod", "/v1/channels", "/v1/releases/app-1/stage"]
            try await socket.send(paths.map { "GET \($0) HTTP/1.1\r\nHost: t\r\n\r\n" }.joined())
            var bodies: [String] = []
            for _ in paths { bodies.append(String(decoding: try await self.readResponse(socket).body, as: UTF8.self)) }
            #expect(bodies[0].contains("\"ghcr.io/acme/app-0:v1-dev\""))
            #expect(bodies[1].contains("\"status\":\"ok\""))
            #expect(bodies[2].contains("\"ghcr.io/acme/app-0:v1-prod\""))
            #expect(bodies[3].contains("\"channels\":[\"dev\",\"stage\",\"prod\"]"))
            #expect(bodies[4].contains("\"ghcr.io/acme/app-1:v1-stage\""))

            // Both paths count into the same series (the raw lookups and the router's).
            let metrics = try await server.request("/metrics")
            let series = #"release_chan_http_requests_total{route="/v1/releases/{container}/{channel}",method="GET",status="200"} 3"#
            #expect(String(decoding: metrics.body, as: UTF8.self).contains(series))
        }
    }

    /// A HEAD between lookups answered from the raw bytes: NIO's encoder frames a response by the method
    /// its decoder recorded, so a response it never saw must not shift that pairing (the HEAD's
    /// response has no body, and the lookups after it still parse).
    @Test func aHeadRequestBetweenRawLookupsKeepsItsFraming() async throws {
        try await withTestServer { server in
            let socket = try RawSocket(port: server.port)
            let requests = [
                "GET /v1/releases/my-app/dev HTTP/1.1\r\nHost: t\r\n\r\n",
                "HEAD /v1/releases/my-app/prod HTTP/1.1\r\nHost: t\r\n\r\n",
                "GET /v1/releases/my-app/prod HTTP/1.1\r\nHost: t\r\n\r\n",
                "HEAD /v1/releases HTTP/1.1\r\nHost: t\r\n\r\n",
                "GET /v1/releases/app-1/stage HTTP/1.1\r\nHost: t\r\n\r\n",
            ]
            try await socket.send(requests.joined())
            let first = try await self.readResponse(socket)
            #expect(String(decoding: first.body, as: UTF8.self).contains("\"ghcr.io/acme/app-0:v1-dev\""))
            // A HEAD response carries the GET's Content-Length but no body: read only its head.
            var head: [UInt8] = []
            while !head.reversed().starts(with: Array("\n\r\n\r".utf8)) {
                guard let byte = try await socket.read(exactly: 1) else { throw TestFailure("closed in a HEAD response") }
                head += byte
            }
            #expect(String(decoding: head, as: UTF8.self).hasPrefix("HTTP/1.1 200 OK"))
            let prod = try await self.readResponse(socket)
            #expect(String(decoding: prod.body, as: UTF8.self).contains("\"ghcr.io/acme/app-0:v1-prod\""))
            head = []
            while !head.reversed().starts(with: Array("\n\r\n\r".utf8)) {
                guard let byte = try await socket.read(exactly: 1) else { throw TestFailure("closed in a HEAD response") }
                head += byte
            }
            let last = try await self.readResponse(socket)
            #expect(last.head.first == "HTTP/1.1 200 OK")
            #expect(String(decoding: last.body, as: UTF8.self).contains("\"ghcr.io/acme/app-1:v1-stage\""))
        }
    }

    /// A lookup that arrives a few bytes at a time is answered once its head is complete, and a request
    /// the raw path does not read (a body) hands the rest of the connection to the decoder.
    @Test func lookupsInPiecesAndThenABody() async throws {
        try await withTestServer { server in
            let socket = try RawSocket(port: server.port)
            let request = Array("GET /v1/releases/my-app/stage HTTP/1.1\r\nHost: t\r\nAccept: */*\r\n\r\n".utf8)
            for start in stride(from: 0, to: request.count, by: 7) {
                try await socket.send(Array(request[start..<min(start + 7, request.count)]))
            }
            let stage = try await self.readResponse(socket)
            #expect(String(decoding: stage.body, as: UTF8.self).contains("\"ghcr.io/acme/app-0:v1-stage\""))
            try await socket.send(
                "GET /v1/releases/my-app/dev HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}"
                    + "GET /v1/releases/my-app/prod HTTP/1.1\r\nHost: t\r\n\r\n"
            )
            let dev = try await self.readResponse(socket)
            #expect(String(decoding: dev.body, as: UTF8.self).contains("\"ghcr.io/acme/app-0:v1-dev\""))
            let prod = try await self.readResponse(socket)
            #expect(String(decoding: prod.body, as: UTF8.self).contains("\"ghcr.io/acme/app-0:v1-prod\""))
        }
    }
}
