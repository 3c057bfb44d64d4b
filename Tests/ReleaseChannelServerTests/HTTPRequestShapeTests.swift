import ReleaseChannelTestSupport
import Foundation
import ReleaseChannelServer
import Testing

/// Requests at the edges of what the routes take, over raw sockets, on both of the server's paths: a
/// path with an empty segment or a trailing `/`, a method no route takes, a request that ends its
/// connection (docs/http-api.md §1).
@Suite struct HTTPRequestShapeTests {
    /// One response off a keep-alive connection: its status line and fields (without `Date`, which
    /// changes, unless `keepingDate`), and its body.
    static func readResponse(_ socket: RawSocket, keepingDate: Bool = false) async throws -> (head: [String], body: String) {
        var header: [UInt8] = []
        while !header.reversed().starts(with: Array("\n\r\n\r".utf8)) {
            guard let byte = try await socket.read(exactly: 1) else { throw TestFailure("closed after \(header.count) bytes") }
            header += byte
        }
        let lines = String(decoding: header, as: UTF8.self).split(separator: "\r\n").map(String.init)
        let length = lines.first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        let body = length == 0 ? [] : (try await socket.read(exactly: length) ?? [])
        return (lines.filter { keepingDate || !$0.lowercased().hasPrefix("date:") }, String(decoding: body, as: UTF8.self))
    }

    /// The router skips empty segments: these were answered as the whole db, a container's releases,
    /// a release or the health route. Each target is sent as the fast path reads it and, with an
    /// `If-None-Match` that only the router reads, as the router gets it: the answers are the same bytes.
    @Test(arguments: [
        ("/v1/releases/", 400, "empty path segment in \"/v1/releases/\""),
        ("/v1/releases//", 400, "empty path segment in \"/v1/releases//\""),
        ("/v1/releases//?container=my-app", 400, "empty path segment in \"/v1/releases//\""),
        ("/v1/releases/my-app/", 400, "empty path segment in \"/v1/releases/my-app/\""),
        ("/v1/releases/my-app/dev/", 400, "empty path segment in \"/v1/releases/my-app/dev/\""),
        ("/v1/releases//dev", 400, "empty path segment in \"/v1/releases//dev\""),
        ("//v1/releases", 404, #"no route for GET "//v1/releases": a path with an empty segment or a trailing "/" names no route"#),
        ("/v1//releases", 404, #"no route for GET "/v1//releases": a path with an empty segment or a trailing "/" names no route"#),
        ("/v1/health/", 404, #"no route for GET "/v1/health/": a path with an empty segment or a trailing "/" names no route"#),
        ("/v1/channels//", 404, #"no route for GET "/v1/channels//": a path with an empty segment or a trailing "/" names no route"#),
        ("/metrics/", 404, #"no route for GET "/metrics/": a path with an empty segment or a trailing "/" names no route"#),
    ])
    func anEmptySegmentOrTrailingSlashIsAnError(target: String, status: Int, message: String) async throws {
        try await withTestServer { server in
            let socket = try RawSocket(port: server.port)
            try await socket.send("GET \(target) HTTP/1.1\r\nHost: t\r\n\r\n")
            let plain = try await Self.readResponse(socket)
            try await socket.send("GET \(target) HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"x\"\r\n\r\n")
            let routed = try await Self.readResponse(socket)
            #expect(plain.head == routed.head)
            #expect(plain.body == routed.body)
            #expect(plain.head.first?.hasPrefix("HTTP/1.1 \(status) ") == true, "\(plain.head)")
            let code = status == 400 ? "bad_parameter" : "not_found"
            let quoted = message.replacingOccurrences(of: "\"", with: "\\\"")
            #expect(plain.body == #"{"error":{"code":"\#(code)","message":"\#(quoted)"}}"#)
            // The connection goes on.
            try await socket.send("GET /v1/releases/my-app/dev HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await Self.readResponse(socket).head.first == "HTTP/1.1 200 OK")
        }
    }

    /// A request the HTTP/1 parser refuses gets the 400 every other error has, with its JSON body naming
    /// what was refused, after the response to the request before it, and the connection is closed.
    /// Hummingbird wrote it with no body.
    @Test(arguments: [
        ("FOO /v1/health HTTP/1.1\r\nHost: t\r\n\r\n", "the request method is not one the HTTP/1 parser knows"),
        ("GET /v1/health HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n", "the Content-Length field is not valid for this request"),
        ("GET /v1/health HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "a", count: 90_000))\r\n\r\n",
         "the request head is over the server's limits (80 KiB of header fields, 1000 fields, an 80 KiB request line)"),
        ("GET /v1/health HTTP/3.7\r\nHost: t\r\n\r\n", "the HTTP version is not HTTP/1.0 or HTTP/1.1"),
    ])
    func aRequestTheParserRefusesGetsAJSONError(request: String, message: String) async throws {
        try await withTestServer { server in
            let socket = try RawSocket(port: server.port)
            // Behind a request with a body (which the fast path leaves to the parser and the router).
            try await socket.send("POST /v1/health HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}" + request)
            #expect(try await Self.readResponse(socket).head.first == "HTTP/1.1 405 Method Not Allowed")
            let refused = try await Self.readResponse(socket, keepingDate: true)
            #expect(refused.head.first == "HTTP/1.1 400 Bad Request")
            #expect(refused.head.contains { $0.lowercased() == "connection: close" })
            #expect(refused.head.contains { $0.lowercased() == "content-type: application/json; charset=utf-8" })
            // Date and Server, as on every other response.
            #expect(refused.head.contains { $0.lowercased().hasPrefix("date: ") && $0.hasSuffix(" GMT") }, "\(refused.head)")
            #expect(refused.head.contains { $0.lowercased().hasPrefix("server: ") }, "\(refused.head)")
            #expect(refused.body == #"{"error":{"code":"bad_request","message":"\#(message)"}}"#)
            #expect(try await socket.read(exactly: 1) == nil, "the connection stayed open")
        }
    }

    /// Methods the HTTP/1 parser knows that no route registers were the router's 404.
    @Test(arguments: [
        ("TRACE", "/v1/health", "/v1/health", "GET, HEAD"),
        ("PROPFIND", "/v1/releases/my-app", "/v1/releases/{container}", "GET, HEAD"),
        ("MKCOL", "/v1/releases/my-app/dev", "/v1/releases/{container}/{channel}", "GET, HEAD"),
        ("TRACE", "/v1/releases", "/v1/releases", "GET, HEAD"),
        ("SEARCH", "/v1/channels", "/v1/channels", "GET, HEAD"),
        ("TRACE", "/v1/reload", "/v1/reload", "POST"),
        ("DELETE", "/metrics", "/metrics", "GET, HEAD"),
    ])
    func anyOtherMethodIs405WithAllow(method: String, path: String, route: String, allow: String) async throws {
        try await withTestServer { server in
            let socket = try RawSocket(port: server.port)
            try await socket.send("\(method) \(path) HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try await Self.readResponse(socket)
            #expect(response.head.first == "HTTP/1.1 405 Method Not Allowed")
            #expect(response.head.contains("Allow: \(allow)"), "\(response.head)")
            #expect(response.head.contains("Content-Type: application/json; charset=utf-8"))
            #expect(response.body == #"{"error":{"code":"method_not_allowed","message":"\#(method) is not allowed here; allowed: \#(allow)"}}"#)
            try await socket.send("GET /v1/ready HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try await Self.readResponse(socket).head.first == "HTTP/1.1 200 OK")
            // Counted under the route, as the standard methods are.
            let metrics = String(decoding: try await server.request("/metrics").body, as: UTF8.self)
            #expect(metrics.contains(#"release_chan_http_requests_total{route="\#(route)",method="\#(method)",status="405"} 1"#), "\(metrics)")
        }
    }

    /// After a CONNECT the decoder parses nothing more, and NIO's encoder sends no body (nor a
    /// `Content-Length`) in any response to one: the 405 ends the connection, which the server closes,
    /// so that the client reading up to the close is not left waiting (it was, until the idle timeout).
    @Test func connectIs405AndTheConnectionCloses() async throws {
        try await withTestServer(configure: { $0.httpIdleTimeout = .seconds(60) }) { server in
            let socket = try RawSocket(port: server.port, timeout: .seconds(20))
            try await socket.send("CONNECT /v1/health HTTP/1.1\r\nHost: t\r\n\r\nGET /v1/ready HTTP/1.1\r\nHost: t\r\n\r\n")
            let started = ContinuousClock.now
            let received = String(decoding: try await socket.readToEnd(), as: UTF8.self)
            #expect(ContinuousClock.now - started < .seconds(10), "the connection stayed open")
            #expect(received.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"), "\(received)")
            #expect(received.contains("\r\nAllow: GET, HEAD\r\n"))
            #expect(received.contains("\r\nConnection: close\r\n"))
            #expect(received.components(separatedBy: "HTTP/1.1 ").count == 2, "\(received)")
        }
    }

    /// Every request the connection ends with (HTTP/1.0 without keep-alive, `close` in any case and in
    /// any place of the list) is answered with `Connection: close`, and the server closes: the request
    /// after it is not answered (it was a bare 400), and the close does not wait for the idle timeout.
    /// `/v1/releases/my-app/dev` is a lookup the fast path answers when the request keeps its connection.
    @Test(arguments: ["/v1/releases/my-app/dev", "/v1/health"], [
        "HTTP/1.0\r\nHost: t",
        "HTTP/1.1\r\nHost: t\r\nConnection: close",
        "HTTP/1.1\r\nHost: t\r\nConnection: Close",
        "HTTP/1.1\r\nHost: t\r\nConnection: CLOSE",
        "HTTP/1.1\r\nHost: t\r\nConnection: keep-alive, close",
        "HTTP/1.1\r\nHost: t\r\nConnection: close, te",
    ])
    func aRequestThatEndsItsConnectionSaysCloseAndIsClosed(path: String, versionAndFields: String) async throws {
        try await withTestServer(configure: { $0.httpIdleTimeout = .seconds(60) }) { server in
            let socket = try RawSocket(port: server.port, timeout: .seconds(20))
            try await socket.send("GET \(path) \(versionAndFields)\r\n\r\nGET /v1/ready HTTP/1.1\r\nHost: t\r\n\r\n")
            let started = ContinuousClock.now
            let received = String(decoding: try await socket.readToEnd(), as: UTF8.self)
            #expect(ContinuousClock.now - started < .seconds(10), "the connection stayed open")
            let answers = received.components(separatedBy: "HTTP/1.1 ").dropFirst()
            #expect(answers.count == 1, "\(received)")
            #expect(answers.first?.hasPrefix("200 OK\r\n") == true, "\(received)")
            #expect(received.contains("\r\nConnection: close\r\n"), "\(received)")
        }
    }

    /// HTTP/1.0 with `keep-alive` keeps its connection.
    @Test func http10WithKeepAliveKeepsTheConnection() async throws {
        try await withTestServer { server in
            let socket = try RawSocket(port: server.port)
            try await socket.send("GET /v1/health HTTP/1.0\r\nHost: t\r\nConnection: keep-alive\r\n\r\nGET /v1/ready HTTP/1.1\r\nHost: t\r\n\r\n")
            let first = try await Self.readResponse(socket)
            #expect(first.head.first == "HTTP/1.1 200 OK")
            #expect(!first.head.contains("Connection: close"))
            #expect(try await Self.readResponse(socket).head.first == "HTTP/1.1 200 OK")
        }
    }
}
