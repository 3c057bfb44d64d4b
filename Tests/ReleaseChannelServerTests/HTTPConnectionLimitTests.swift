import Foundation
import ReleaseChannelServer
import ReleaseChannelTestSupport
import Testing

/// The HTTP connection cap (`--http-max-connections`) against a real server: the connection over it is
/// answered 503 and closed (or, if it sends nothing, closed), the admitted ones are served as before,
/// and a connection that closes makes room for the next.
@Suite struct HTTPConnectionLimitTests {
    static let lookup = "GET /v1/releases/my-app/prod HTTP/1.1\r\nHost: t\r\n\r\n"

    @Test func theConnectionOverTheCapIsAnswered503AndClosed() async throws {
        try await withTestServer(configure: { $0.httpMaximumConnections = 2 }) { server in
            // Both admitted connections answered first, so that the server has counted both.
            let first = try RawSocket(port: server.port)
            let second = try RawSocket(port: server.port)
            for socket in [first, second] {
                try await socket.send(Self.lookup)
                let status = try #require(try await socket.read(exactly: 17))
                #expect(String(decoding: status, as: UTF8.self) == "HTTP/1.1 200 OK\r\n")
            }
            let third = try RawSocket(port: server.port)
            try await third.send(Self.lookup)
            let refused = String(decoding: try await third.readToEnd(), as: UTF8.self)
            #expect(refused.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), "\(refused)")
            #expect(refused.contains("\r\nRetry-After: 1\r\n"))
            #expect(refused.contains("\r\nConnection: close\r\n"))
            let body = #"{"error":{"code":"too_many_connections","message":"too many connections (limit 2)"}}"#
            #expect(refused.hasSuffix("\r\n\r\n" + body), "\(refused)")
            #expect(HTTPIdleTimeoutTests.contentLength(refused) == body.utf8.count)

            // Over the cap, a client that sends nothing is closed unanswered.
            let silent = try RawSocket(port: server.port)
            #expect(try await silent.readToEnd().isEmpty)

            // An admitted connection is still served; its last request closes it.
            try await first.send("GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            let metrics = Data(try await first.readToEnd())
            #expect(metric("release_chan_http_rejected_connections_total", in: metrics) == 2)
            #expect(metric("release_chan_http_connections", in: metrics) == 2)
            // Its place is free again once the connection is closed (the server shuts down its sending
            // side after `Connection: close`; the client's end of input closes it): a new one is served.
            first.finishSending()
            #expect(try await eventually {
                try await HTTP.curl(["\(server.baseURL)/v1/releases/my-app/prod"]).status == 200
            })
        }
    }
}
