import ReleaseChannelTestSupport
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import ReleaseChannelModel
import ReleaseChannelStore
import Testing

@testable import ReleaseChannelHTTP

/// The event-loop fast path for the two hot lookups: what it answers, what it forwards, and that its
/// answers are the router's, byte for byte.
@Suite struct HTTPFastPathTests {
    func makeChannel(compressed: Bool = true) throws -> (EmbeddedChannel, Snapshot) {
        let database = Fixtures.database(containers: 3)
        let snapshot = SnapshotBuilder.build(database: database, canonicalBytes: CanonicalEncoder.encode(database), loadedAt: 0)
        if compressed { try snapshot.compressWholeDatabase() }
        let store = SnapshotStore()
        store.swap(snapshot)
        let handler = ReleaseFastPathHandler(store: store, metrics: HTTPRequestMetrics(factory: Fixtures.metrics), accessLogger: nil, serverName: "release-chan")
        return (EmbeddedChannel(handler: handler), snapshot)
    }

    func send(_ channel: EmbeddedChannel, _ uri: String, method: HTTPMethod = .GET, version: HTTPVersion = .http1_1, headers: HTTPHeaders = [:]) throws {
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: version, method: method, uri: uri, headers: headers)))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
    }

    /// The request parts passed on to the router (nil when nothing was).
    func forwardedURI(_ channel: EmbeddedChannel) throws -> String? {
        guard case .head(let head) = try channel.readInbound(as: HTTPServerRequestPart.self) else { return nil }
        guard case .end = try channel.readInbound(as: HTTPServerRequestPart.self) else { throw TestFailure("no end after \(head.uri)") }
        return head.uri
    }

    func answer(_ channel: EmbeddedChannel) throws -> (head: HTTPResponseHead, body: ByteBuffer)? {
        guard let (head, body) = try self.answerParts(channel) else { return nil }
        guard case .byteBuffer(let buffer) = body else { throw TestFailure("a file region, not a buffer") }
        return (head, buffer)
    }

    func answerParts(_ channel: EmbeddedChannel) throws -> (head: HTTPResponseHead, body: IOData)? {
        guard case .head(let head) = try channel.readOutbound(as: HTTPServerResponsePart.self) else { return nil }
        guard case .body(let body) = try channel.readOutbound(as: HTTPServerResponsePart.self),
            case .end(nil) = try channel.readOutbound(as: HTTPServerResponsePart.self)
        else { throw TestFailure("incomplete answer") }
        return (head, body)
    }

    @Test func answersTheLookupsOnTheEventLoop() throws {
        let (channel, snapshot) = try self.makeChannel()
        try self.send(channel, "/v1/releases/my-app/dev")
        #expect(try self.forwardedURI(channel) == nil, "answered, not forwarded")
        let release = try #require(try self.answer(channel))
        #expect(release.head.status == .ok)
        #expect(release.body == snapshot.release(container: "my-app", channel: "dev")?.body)
        #expect(release.head.headers["ETag"] == ["\"\(snapshot.revision)\""])
        #expect(release.head.headers["Content-Length"] == ["\(release.body.readableBytes)"])
        #expect(release.head.headers["Content-Encoding"].isEmpty)

        try self.send(channel, "/v1/releases", headers: ["Accept-Encoding": "br, gzip;q=0.5"])
        let gzip = try #require(try self.answerParts(channel))
        // Sent with sendfile: a region over all of the form's file (the bytes on the wire are checked
        // against the system gzip in HTTPAPITests).
        guard case .fileRegion(let region) = gzip.body else { throw TestFailure("the gzip form was not sent from its file") }
        #expect(region.readerIndex == 0 && region.endIndex == snapshot.wholeDatabase.gzip?.count)
        #expect(gzip.head.headers["Content-Length"] == ["\(region.readableBytes)"])
        #expect(gzip.head.headers["Content-Encoding"] == ["gzip"])
        #expect(gzip.head.headers["ETag"] == ["\"\(snapshot.revision)-gzip\""])

        // Once only the gzip form is held, inflating it for a client without gzip is the router's.
        try self.send(channel, "/v1/releases", headers: ["Accept-Encoding": "gzip;q=0"])
        #expect(try self.forwardedURI(channel) == "/v1/releases")
        #expect(try channel.finish().isClean)
    }

    @Test func beforeCompressionTheWholeDatabaseIsSentAsItIs() throws {
        let (channel, snapshot) = try self.makeChannel(compressed: false)
        let identity = try #require(snapshot.wholeDatabase.heldIdentity)
        for acceptEncoding in ["gzip", "identity"] {
            try self.send(channel, "/v1/releases", headers: ["Accept-Encoding": acceptEncoding])
            #expect(try self.forwardedURI(channel) == nil, "answered, not forwarded")
            let answer = try #require(try self.answer(channel))
            #expect(answer.body == identity)
            #expect(answer.head.headers["Content-Encoding"].isEmpty)
            #expect(answer.head.headers["ETag"] == ["\"\(snapshot.revision)\""])
        }
        #expect(try channel.finish().isClean)
    }

    @Test(arguments: [
        ("/v1/releases/my-app/qa", HTTPMethod.GET, HTTPVersion.http1_1, [:]),  // unknown channel: the router words the error
        ("/v1/releases/nope/dev", .GET, .http1_1, [:]),
        ("/v1/releases/my%2Dapp/dev", .GET, .http1_1, [:]),
        ("/v1/releases/my-app/dev?pretty", .GET, .http1_1, [:]),
        ("/v1/releases/my-app/dev/", .GET, .http1_1, [:]),
        ("/v1/releases?container=my-app", .GET, .http1_1, [:]),
        ("/v1/releases/my-app", .GET, .http1_1, [:]),
        ("/v1/health", .GET, .http1_1, [:]),
        ("/v1/releases/my-app/dev", .HEAD, .http1_1, [:]),
        ("/v1/releases/my-app/dev", .GET, .http1_0, [:]),  // not keep-alive
        ("/v1/releases/my-app/dev", .GET, .http1_1, ["Connection": "close"]),
        ("/v1/releases/my-app/dev", .GET, .http1_1, ["If-None-Match": "\"x\""]),
        ("/v1/releases/my-app/dev", .GET, .http1_1, ["Content-Length": "3"]),
    ] as [(String, HTTPMethod, HTTPVersion, HTTPHeaders)])
    func forwardsWhatTheRouterMustAnswer(uri: String, method: HTTPMethod, version: HTTPVersion, headers: HTTPHeaders) throws {
        let (channel, _) = try self.makeChannel()
        try self.send(channel, uri, method: method, version: version, headers: headers)
        #expect(try self.forwardedURI(channel) == uri)
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == nil)
        _ = try channel.finish()
    }

    @Test func keepsResponsesInRequestOrder() throws {
        let (channel, _) = try self.makeChannel()
        try self.send(channel, "/v1/health")
        #expect(try self.forwardedURI(channel) == "/v1/health")
        // The health response is not written yet, so a lookup behind it must wait its turn at the router.
        try self.send(channel, "/v1/releases/my-app/prod")
        #expect(try self.forwardedURI(channel) == "/v1/releases/my-app/prod")
        for _ in 0..<2 {
            try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
            try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        }
        while try channel.readOutbound(as: HTTPServerResponsePart.self) != nil {}
        // Both answered: the fast path takes over again.
        try self.send(channel, "/v1/releases/my-app/prod")
        #expect(try self.forwardedURI(channel) == nil)
        #expect(try self.answer(channel) != nil)
        _ = try channel.finish()
    }

    // MARK: Against the real server

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
