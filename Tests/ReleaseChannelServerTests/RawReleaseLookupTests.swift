import ReleaseChannelTestSupport
import Foundation
import NIOCore
import NIOEmbedded
import ReleaseChannelModel
import ReleaseChannelStore
import Testing

@testable import ReleaseChannelHTTP

/// The raw-bytes lookup in front of NIO's HTTP/1 decoder: what it answers, what it passes on (whole
/// requests, in order), and when it steps aside for the rest of a connection.
@Suite struct RawReleaseLookupTests {
    struct Connection {
        let channel: EmbeddedChannel
        let snapshot: Snapshot
        let ordering: FastPathOrdering

        /// Bytes written to the client so far.
        func answered() throws -> String {
            var text = ""
            while let buffer = try self.channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
            return text
        }

        /// Bytes passed on to the decoder so far.
        func passedOn() throws -> String {
            var text = ""
            while let buffer = try self.channel.readInbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
            return text
        }

        func send(_ text: String) throws {
            try self.channel.writeInbound(self.channel.allocator.buffer(string: text))
        }
    }

    func connection() throws -> Connection {
        let database = Fixtures.database(containers: 3)
        let snapshot = SnapshotBuilder.build(database: database, canonicalBytes: CanonicalEncoder.encode(database), loadedAt: 0)
        let store = SnapshotStore()
        store.swap(snapshot)
        let ordering = FastPathOrdering()
        let handler = RawReleaseLookupHandler(
            store: store,
            ordering: ordering,
            accounting: FastPathAccounting(metrics: HTTPRequestMetrics(factory: Fixtures.metrics), accessLogger: nil),
            serverName: "release-chan"
        )
        return Connection(channel: EmbeddedChannel(handler: handler), snapshot: snapshot, ordering: ordering)
    }

    static func get(_ path: String, _ headers: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: t\r\n\(headers)\r\n"
    }

    func expectAnswer(_ text: String, for container: String, _ channel: String, in connection: Connection) throws {
        let body = try #require(connection.snapshot.release(container: container, channel: channel)).body
        let revision = connection.snapshot.revision
        let head = try #require(text.range(of: "\r\n\r\n")).upperBound
        let lines = text[..<head].split(separator: "\r\n").filter { !$0.hasPrefix("Date: ") }
        #expect(
            lines == [
                "HTTP/1.1 200 OK", "Content-Type: application/json; charset=utf-8", "ETag: \"\(revision)\"", "X-Release-Revision: \(revision)",
                "Vary: Accept-Encoding", "Cache-Control: no-cache", "Content-Length: \(body.readableBytes)", "Server: release-chan",
            ]
        )
        #expect(String(text[head...]) == String(buffer: body))
    }

    @Test func answersALookupAndPassesNothingOn() throws {
        let connection = try self.connection()
        try connection.send(Self.get("/v1/releases/my-app/dev"))
        try self.expectAnswer(try connection.answered(), for: "my-app", "dev", in: connection)
        #expect(try connection.passedOn() == "")
        #expect(try connection.channel.finish().isClean)
    }

    @Test(arguments: [
        "Content-Length: 0\r\n",
        "Connection: keep-alive\r\n",
        "CONNECTION:Keep-Alive \r\n",
        "Accept-Encoding: gzip\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n",
        "X-Long: \(String(repeating: "a", count: 8000))\r\n",
    ])
    func headersThatDoNotChangeTheAnswerAreAnswered(headers: String) throws {
        let connection = try self.connection()
        try connection.send(Self.get("/v1/releases/app-2/stage", headers))
        try self.expectAnswer(try connection.answered(), for: "app-2", "stage", in: connection)
        #expect(try connection.passedOn() == "")
    }

    @Test func aHeadSplitAcrossReadsIsAnsweredOnceComplete() throws {
        let connection = try self.connection()
        let request = Self.get("/v1/releases/my-app/prod", "Accept: */*\r\n")
        for byte in request.utf8 {
            #expect(try connection.answered() == "")
            try connection.channel.writeInbound(connection.channel.allocator.buffer(bytes: [byte]))
        }
        try self.expectAnswer(try connection.answered(), for: "my-app", "prod", in: connection)
        #expect(try connection.passedOn() == "")
    }

    @Test(arguments: [
        Self.get("/v1/health"),
        Self.get("/v1/releases/nope/dev"),  // unknown: the router words the error
        Self.get("/v1/releases/my-app/qa"),
        Self.get("/v1/releases/my%2Dapp/dev"),
        Self.get("/v1/releases/my-app/dev?pretty"),
        Self.get("/v1/releases/my-app/dev/"),
        Self.get("/v1/releases/my-app"),
        Self.get("/v1/releases"),
        Self.get("/v1/releases/my-app/dev", "If-None-Match: \"x\"\r\n"),
        Self.get("/v1/releases/my-app/dev", "Connection: close\r\n"),
        Self.get("/v1/releases/my-app/dev", "connection: keep-alive, upgrade\r\n"),
        "HEAD /v1/releases/my-app/dev HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /v1/releases/my-app/dev HTTP/1.0\r\nHost: t\r\n\r\n",
        "POST /v1/reload HTTP/1.1\r\nHost: t\r\n\r\n",
    ])
    func passesOnWhatTheRouterMustAnswer(request: String) throws {
        let connection = try self.connection()
        // A lookup behind it waits for its answer, and is passed on too.
        try connection.send(request + Self.get("/v1/releases/my-app/dev"))
        #expect(try connection.answered() == "")
        #expect(try connection.passedOn() == request + Self.get("/v1/releases/my-app/dev"))
        #expect(connection.ordering.outstanding == 2)
        // Both answered after the decoder: lookups are answered here again.
        connection.ordering.answered()
        connection.ordering.answered()
        try connection.send(Self.get("/v1/releases/app-1/stage"))
        try self.expectAnswer(try connection.answered(), for: "app-1", "stage", in: connection)
        #expect(try connection.passedOn() == "")
    }

    @Test(arguments: [
        "POST /v1/reload HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}",
        "POST /v1/reload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "GET /v1/releases/my-app/dev HTTP/1.1\nHost: t\n\n",  // bare LF
        "GET /v1/releases/my-app/dev HTTP/1.1\r\nHost: t\r\n folded\r\n\r\n",
        "GET /v1/releases/my-app/dev HTTP/1.1\r\nBad Name: t\r\n\r\n",
        "get /v1/releases/my-app/dev HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /v1/releases/my-app/dev HTTP/2.0\r\nHost: t\r\n\r\n",
        "\r\nGET /v1/releases/my-app/dev HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /v1/releases/my-app/dev HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
        "GET /v1/releases/my-app/dev HTTP/1.1\r\nX: \u{1}\r\n\r\n",
        "GET /v1/releases/my-app/dev HTTP/1.1\r\nX: \(String(repeating: "a", count: 9000))\r\n\r\n",
    ])
    func stepsAsideForTheRestOfTheConnection(request: String) throws {
        let connection = try self.connection()
        try connection.send(Self.get("/v1/releases/my-app/dev") + request + Self.get("/v1/releases/my-app/prod"))
        // The lookup before it is answered; from it on, every byte is the decoder's.
        try self.expectAnswer(try connection.answered(), for: "my-app", "dev", in: connection)
        #expect(try connection.passedOn() == request + Self.get("/v1/releases/my-app/prod"))
        connection.ordering.answered()
        connection.ordering.answered()
        try connection.send(Self.get("/v1/releases/my-app/prod"))
        #expect(try connection.answered() == "")
        #expect(try connection.passedOn() == Self.get("/v1/releases/my-app/prod"))
    }

    @Test func anIncompleteHeadGoesToTheDecoderWhenTheInputEnds() throws {
        let connection = try self.connection()
        try connection.send("GET /v1/releases/my-app/dev HTTP/1.1\r\nHo")
        #expect(try connection.passedOn() == "")
        connection.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(try connection.passedOn() == "GET /v1/releases/my-app/dev HTTP/1.1\r\nHo")
        #expect(try connection.answered() == "")
    }

    @Test func pipelinedLookupsShareOneWrite() throws {
        let connection = try self.connection()
        try connection.send(Self.get("/v1/releases/my-app/dev") + Self.get("/v1/releases/app-1/prod") + "GET /v1/rel")
        let first = try #require(try connection.channel.readOutbound(as: ByteBuffer.self))
        #expect(try connection.channel.readOutbound(as: ByteBuffer.self) == nil)
        let text = String(buffer: first)
        let split = try #require(text.range(of: "HTTP/1.1 200 OK", range: text.index(after: text.startIndex)..<text.endIndex)).lowerBound
        try self.expectAnswer(String(text[..<split]), for: "my-app", "dev", in: connection)
        try self.expectAnswer(String(text[split...]), for: "app-1", "prod", in: connection)
        // The rest of the third arrives.
        try connection.send("eases/app-2/stage HTTP/1.1\r\n\r\n")
        try self.expectAnswer(try connection.answered(), for: "app-2", "stage", in: connection)
        #expect(try connection.passedOn() == "")
    }
}
