import ReleaseChannelTestSupport
import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
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

        /// Bytes written to the client so far (a file region as a placeholder: its descriptor is closed
        /// once written).
        func answered() throws -> String {
            var text = ""
            while let data = try self.channel.readOutbound(as: IOData.self) {
                switch data {
                case .byteBuffer(let buffer): text += String(buffer: buffer)
                case .fileRegion(let region): text += "<file \(region.readerIndex)..<\(region.endIndex)>"
                }
            }
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

        /// The router answers `count` passed-on requests: their responses go out past the ordering
        /// handler.
        func routerAnswers(_ count: Int) throws {
            for _ in 0..<count {
                try self.channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
                try self.channel.writeOutbound(HTTPServerResponsePart.end(nil))
            }
            while try self.channel.readOutbound(as: HTTPServerResponsePart.self) != nil {}
        }
    }

    func connection(compressed: Bool = false, containers: Int = 3) throws -> Connection {
        let database = Fixtures.database(containers: containers)
        let snapshot = SnapshotBuilder.build(database: database, canonicalBytes: CanonicalEncoder.encode(database), loadedAt: 0)
        if compressed { try snapshot.compressWholeDatabase() }
        let store = SnapshotStore()
        store.swap(snapshot)
        let ordering = FastPathOrdering()
        let handler = RawReleaseLookupHandler(
            store: store,
            ordering: ordering,
            accounting: FastPathAccounting(metrics: HTTPRequestMetrics(factory: Fixtures.metrics), accessLogger: nil),
            serverName: "release-chan"
        )
        // As in the server: the ordering handler after the decoder sees the passed-on requests' responses.
        let channel = EmbeddedChannel(handlers: [handler, FastPathOrderingHandler(ordering: ordering)])
        return Connection(channel: channel, snapshot: snapshot, ordering: ordering)
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

    /// After a request that ends the connection (Connection: close, or HTTP/1.0 without keep-alive) is
    /// passed on, nothing more is answered here, even once the router has answered it: a lookup that
    /// arrived behind it had been answered before the router closed the connection.
    @Test(arguments: [
        "GET /v1/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        Self.get("/v1/releases/my-app/dev", "Connection: close\r\n"),
        "GET /v1/releases/my-app/dev HTTP/1.0\r\nHost: t\r\n\r\n",
    ])
    func nothingIsAnsweredAfterARequestThatEndsTheConnection(closing: String) throws {
        let connection = try self.connection()
        try connection.send(closing)
        #expect(try connection.passedOn() == closing)
        try connection.routerAnswers(1)
        try connection.send(Self.get("/v1/releases/my-app/dev"))
        #expect(try connection.answered() == "")
        #expect(try connection.passedOn() == Self.get("/v1/releases/my-app/dev"))
    }

    /// While the channel is full, requests are not answered (nor more bytes read): a client sending
    /// requests without reading the answers had grown the write queue without limit, and with whole-db
    /// answers the open file descriptors, one each. They are answered, in order, once it drains.
    @Test func aFullChannelHoldsTheAnswersUntilItDrains() throws {
        let connection = try self.connection()
        connection.channel.isWritable = false
        try connection.send(Self.get("/v1/releases/my-app/dev") + Self.get("/v1/releases/app-1/prod") + Self.get("/v1/releases/app-2/stage"))
        #expect(try connection.answered() == "")
        #expect(try connection.passedOn() == "")

        connection.channel.isWritable = true
        connection.channel.pipeline.fireChannelWritabilityChanged()
        let text = try connection.answered()
        let answers = text.components(separatedBy: "HTTP/1.1 200 OK\r\n").dropFirst().map { "HTTP/1.1 200 OK\r\n" + $0 }
        #expect(answers.count == 3)
        for (answer, (container, channel)) in zip(answers, [("my-app", "dev"), ("app-1", "prod"), ("app-2", "stage")]) {
            try self.expectAnswer(answer, for: container, channel, in: connection)
        }
        #expect(try connection.passedOn() == "")

        // A request for the router that waited behind them is passed on once the channel drains, with a
        // read completion, as after a read: Hummingbird's channel hands reads on at their completion.
        let recorder = WritabilityRecorder()
        try connection.channel.pipeline.syncOperations.addHandler(recorder)
        connection.channel.isWritable = false
        try connection.send(Self.get("/v1/releases/my-app/dev") + "POST /v1/reload HTTP/1.1\r\nHost: t\r\n\r\n")
        let completedBefore = recorder.readsCompleted
        connection.channel.isWritable = true
        connection.channel.pipeline.fireChannelWritabilityChanged()
        try self.expectAnswer(try connection.answered(), for: "my-app", "dev", in: connection)
        #expect(try connection.passedOn() == "POST /v1/reload HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(recorder.readsCompleted == completedBefore + 1)
    }

    /// The whole db: as it is before compression; its gzip form, from its file, for a client that
    /// accepts gzip; the router's to inflate for one that does not.
    @Test func answersTheWholeDatabase() throws {
        let plain = try self.connection()
        let identity = try #require(plain.snapshot.wholeDatabase.heldIdentity)
        for acceptEncoding in ["Accept-Encoding: gzip\r\n", "Accept-Encoding: identity\r\n", ""] {
            try plain.send(Self.get("/v1/releases", acceptEncoding))
            let text = try plain.answered()
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(text.contains("\r\nETag: \"\(plain.snapshot.revision)\"\r\n"))
            #expect(!text.contains("Content-Encoding"))
            #expect(text.contains("\r\nContent-Length: \(identity.readableBytes)\r\n"))
            #expect(text.hasSuffix("\r\n\r\n" + String(buffer: identity)))
            #expect(try plain.passedOn() == "")
        }

        // The gzip form: the head alone, then the file, with `TCP_CORK` set from before the head until
        // the file is written (its bytes on the wire are checked against the system gzip in HTTPAPITests).
        let compressed = try self.connection(compressed: true, containers: 3_000)
        let gzip = try #require(compressed.snapshot.wholeDatabase.gzip)
        let cork = CorkRecorder()
        try compressed.channel.pipeline.syncOperations.addHandler(cork, position: .first)
        try compressed.send(Self.get("/v1/releases", "Accept-Encoding: br, gzip;q=0.5\r\n"))
        guard case .byteBuffer(let head) = try compressed.channel.readOutbound(as: IOData.self),
            case .fileRegion(let region) = try compressed.channel.readOutbound(as: IOData.self)
        else { throw TestFailure("not a head and the gzip form's file") }
        let headText = String(buffer: head)
        #expect(headText.hasPrefix("HTTP/1.1 200 OK\r\n") && headText.hasSuffix("\r\n\r\n"))
        #expect(headText.contains("\r\nETag: \"\(compressed.snapshot.revision)-gzip\"\r\n"))
        #expect(headText.contains("\r\nContent-Encoding: gzip\r\nContent-Length: \(gzip.count)\r\n"))
        #expect(region.readerIndex == 0 && region.endIndex == gzip.count)
        #expect(cork.seen == ["write head, cork 1", "write file, cork 1", "flush, cork 1"])
        #expect(try cork.current(on: compressed.channel) == 0)

        // Two in one read: one cork over both, taken off once the second file is written.
        cork.seen = []
        try compressed.send(Self.get("/v1/releases", "Accept-Encoding: gzip\r\n") + Self.get("/v1/releases", "Accept-Encoding: gzip\r\n"))
        #expect(try compressed.answered().components(separatedBy: "<file 0..<\(gzip.count)>").count == 3)
        #expect(cork.seen == ["write head, cork 1", "write file, cork 1", "write head, cork 1", "write file, cork 1", "flush, cork 1"])
        #expect(try cork.current(on: compressed.channel) == 0)
        // (It reads only what this handler writes, not the router's HTTP parts.)
        _ = compressed.channel.pipeline.syncOperations.removeHandler(cork)

        for refusal in ["Accept-Encoding: gzip;q=0\r\n", ""] {
            try compressed.send(Self.get("/v1/releases", refusal))
            #expect(try compressed.answered() == "")
            #expect(try compressed.passedOn() == Self.get("/v1/releases", refusal))
            try compressed.routerAnswers(1)
        }
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
        Self.get("/v1/releases?container=my-app"),
        Self.get("/v1/releasesx"),
        Self.get("/v1/releases", "Accept-Encoding: br\r\nAccept-Encoding: gzip\r\n"),  // one list: the router joins it
        Self.get("/v1/releases/my-app/dev", "If-None-Match: \"x\"\r\n"),
        Self.get("/v1/releases/my-app/dev", "connection: keep-alive, upgrade\r\n"),
        "HEAD /v1/releases/my-app/dev HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /v1/releases/my-app/dev HTTP/1.0\r\nHost: t\r\nConnection: keep-alive\r\n\r\n",
        "POST /v1/reload HTTP/1.1\r\nHost: t\r\n\r\n",
    ])
    func passesOnWhatTheRouterMustAnswer(request: String) throws {
        let connection = try self.connection()
        // A lookup behind it waits for its answer, and is passed on too.
        try connection.send(request + Self.get("/v1/releases/my-app/dev"))
        #expect(try connection.answered() == "")
        #expect(try connection.passedOn() == request + Self.get("/v1/releases/my-app/dev"))
        #expect(connection.ordering.outstanding == 2)
        // One answered: the lookup behind it would still overtake the other.
        try connection.routerAnswers(1)
        try connection.send(Self.get("/v1/releases/app-1/prod"))
        #expect(try connection.answered() == "")
        #expect(try connection.passedOn() == Self.get("/v1/releases/app-1/prod"))
        // All answered after the decoder: lookups are answered here again.
        try connection.routerAnswers(2)
        #expect(connection.ordering.outstanding == 0)
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
        try connection.routerAnswers(2)
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

    /// A whole-db response flips the channel's writability; the router behind hears of it only when it
    /// has a response to write, and always before a request passed on to it.
    @Test func writabilityReachesTheRouterWhenItHasSomethingToWrite() throws {
        let connection = try self.connection()
        let recorder = WritabilityRecorder()
        try connection.channel.pipeline.syncOperations.addHandler(recorder)
        func writable(_ writable: Bool) {
            connection.channel.isWritable = writable
            connection.channel.pipeline.fireChannelWritabilityChanged()
        }
        // Every request answered here: nothing to tell.
        writable(false)
        writable(true)
        #expect(recorder.seen == [])
        // Full when a request is passed on: the router learns it first.
        writable(false)
        try connection.send("POST /v1/reload HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(recorder.seen == ["unwritable", "read"])
        // While its answer is outstanding, every change.
        writable(true)
        writable(false)
        #expect(recorder.seen == ["unwritable", "read", "writable", "unwritable"])
        // Answered: turning writable again still reaches it (it was told the channel is full), turning
        // unwritable no longer does.
        try connection.routerAnswers(1)
        writable(true)
        writable(false)
        #expect(recorder.seen == ["unwritable", "read", "writable", "unwritable", "writable"])
        // The rest of the connection passed on (bare LF): it learns the channel is full, then every change.
        try connection.send("GET /v1/releases/my-app/dev HTTP/1.1\nHost: t\n\n")
        writable(true)
        writable(false)
        #expect(recorder.seen == ["unwritable", "read", "writable", "unwritable", "writable", "unwritable", "read", "writable", "unwritable"])
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

    /// A read batch's answers go into the buffer of the batch before once nothing else holds it (no
    /// allocation per request); answers still held by the channel, or by whoever took them, keep their
    /// bytes.
    @Test func answersReuseTheBufferOfTheBatchBefore() throws {
        let connection = try self.connection()
        var lastAddress: UnsafeRawPointer?
        do {
            try connection.send(Self.get("/v1/releases/my-app/dev"))
            let first = try #require(try connection.channel.readOutbound(as: ByteBuffer.self))
            try connection.send(Self.get("/v1/releases/app-1/prod"))
            try connection.send(Self.get("/v1/releases/app-2/stage"))
            let second = try #require(try connection.channel.readOutbound(as: ByteBuffer.self))
            let third = try #require(try connection.channel.readOutbound(as: ByteBuffer.self))
            try self.expectAnswer(String(buffer: first), for: "my-app", "dev", in: connection)
            try self.expectAnswer(String(buffer: second), for: "app-1", "prod", in: connection)
            try self.expectAnswer(String(buffer: third), for: "app-2", "stage", in: connection)
            lastAddress = third.withUnsafeReadableBytes { UnsafeRawPointer($0.baseAddress) }
        }
        try connection.send(Self.get("/v1/releases/app-1/dev"))
        let fourth = try #require(try connection.channel.readOutbound(as: ByteBuffer.self))
        try self.expectAnswer(String(buffer: fourth), for: "app-1", "dev", in: connection)
        #expect(fourth.withUnsafeReadableBytes { UnsafeRawPointer($0.baseAddress) } == lastAddress)
    }
}

/// Records, for each write and flush that leaves ``RawReleaseLookupHandler``, what it was and whether
/// `TCP_CORK` was set at that moment.
final class CorkRecorder: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    var seen: [String] = []

    func current(on channel: any Channel) throws -> ChannelOptions.Types.SocketOption.Value {
        try channel.syncOptions?.getOption(RawReleaseLookupHandler.tcpCork) ?? -1
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let kind = if case .fileRegion = self.unwrapOutboundIn(data) { "file" } else { "head" }
        self.seen.append("write \(kind), cork \((try? self.current(on: context.channel)) ?? -1)")
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        self.seen.append("flush, cork \((try? self.current(on: context.channel)) ?? -1)")
        context.flush()
    }
}

/// Records the writability changes and reads that reach the handlers after the raw lookup path.
final class WritabilityRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    var seen: [String] = []
    /// Read completions seen, kept apart from ``seen``.
    var readsCompleted = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.seen.append("read")
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.readsCompleted += 1
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.seen.append(context.channel.isWritable ? "writable" : "unwritable")
        context.fireChannelWritabilityChanged()
    }
}
