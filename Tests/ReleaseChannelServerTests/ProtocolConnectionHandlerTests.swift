import Logging
import NIOCore
import NIOEmbedded
import ReleaseChannelModel
import ReleaseChannelProtocol
import ReleaseChannelStore
import ReleaseChannelTransportSupport
import ReleaseChannelTestSupport
import Testing

@testable import ReleaseChannelTCP

/// The binary protocol's connection handler on an `EmbeddedChannel`, for what a socket does not show:
/// which buffer a reply is written into. What goes over the wire is in ``ProtocolServerTests``.
@Suite struct ProtocolConnectionHandlerTests {
    struct Connection {
        let channel: EmbeddedChannel
        let snapshot: Snapshot
        let store: SnapshotStore

        func send(_ opcode: ProtocolOpcode, id: UInt32, _ body: (inout ByteBuffer) -> Void) throws {
            var buffer = self.channel.allocator.buffer(capacity: 64)
            buffer.writeFrame(opcode: opcode.rawValue, flags: [], requestID: id, revision: .none, body: body)
            try self.channel.writeInbound(buffer)
        }

        func get(_ container: String, _ channel: String, id: UInt32) throws {
            try self.send(.get, id: id) { ProtocolMessages.Key(container: container, channel: channel).write(to: &$0) }
        }

        /// The next buffer the handler wrote.
        func written() throws -> ByteBuffer {
            try #require(try self.channel.readOutbound(as: ByteBuffer.self))
        }

        /// `buffer` is one GET reply: the request's id, status OK and the release's record.
        func expectReply(_ buffer: ByteBuffer, id: UInt32, _ container: String, _ channel: String) throws {
            let frame = try #require(Frame.parse(buffer))
            #expect(frame.requestID == id)
            #expect(frame.status == .ok)
            var record = ByteBuffer()
            #expect(try #require(self.snapshot.release(container: container, channel: channel)).writeRecord(to: &record))
            #expect(frame.body == record)
        }
    }

    static func snapshot(containers: Int) -> Snapshot {
        let database = Fixtures.database(containers: containers)
        return SnapshotBuilder.build(database: database, canonicalBytes: CanonicalEncoder.encode(database), loadedAt: 0)
    }

    /// A connection that has said HELLO, to a server serving a snapshot unless `loaded` is false.
    func connection(loaded: Bool = true) throws -> Connection {
        let snapshot = Self.snapshot(containers: 3)
        let store = SnapshotStore()
        if loaded { store.swap(snapshot) }
        let metrics = ProtocolMetrics(factory: Fixtures.metrics)
        let handler = ProtocolConnectionHandler(
            store: store,
            configuration: ProtocolServerConfiguration(),
            metrics: metrics,
            limiter: ConnectionLimiter(maximum: 8, gauge: metrics.connections),
            logger: Logger(label: "test")
        )
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        let connection = Connection(channel: channel, snapshot: snapshot, store: store)
        try connection.send(.hello, id: 1) { ProtocolMessages.Hello(versions: [Frame.currentVersion], clientName: "test").write(to: &$0) }
        let hello = try #require(Frame.parse(try connection.written()))
        #expect(hello.status == .ok)
        return connection
    }

    /// One read of many small requests whose replies are large (SNAPSHOT) is not answered all at once:
    /// past the high-water mark the handler hands the replies to the channel and, while the channel is
    /// not writable, leaves the other frames waiting; it answers them when the channel drains. Before,
    /// 13,000 SNAPSHOTs in one write queued 13,000 copies of the db.
    @Test func repliesPastTheHighWaterMarkWaitForTheChannelToDrain() throws {
        let snapshot = Self.snapshot(containers: 1000)
        let store = SnapshotStore()
        store.swap(snapshot)
        let metrics = ProtocolMetrics(factory: Fixtures.metrics)
        let handler = ProtocolConnectionHandler(
            store: store, configuration: ProtocolServerConfiguration(), metrics: metrics,
            limiter: ConnectionLimiter(maximum: 8, gauge: metrics.connections), logger: Logger(label: "test")
        )
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        let connection = Connection(channel: channel, snapshot: snapshot, store: store)
        try connection.send(.hello, id: 1) { ProtocolMessages.Hello(versions: [Frame.currentVersion], clientName: "test").write(to: &$0) }
        _ = try connection.written()
        #expect(snapshot.wholeDatabase.identityLength >= ProtocolConnectionHandler.outputHighWaterMark, "each reply alone passes the mark")

        channel.isWritable = false
        var requests = channel.allocator.buffer(capacity: 200)
        for id in 2...11 { requests.writeFrame(opcode: ProtocolOpcode.snapshot.rawValue, flags: [], requestID: UInt32(id), revision: .none) { _ in } }
        try channel.writeInbound(requests)
        #expect(try #require(Frame.parse(try connection.written())).requestID == 2)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "the other nine wait while the channel is not writable")

        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        var answered: [UInt32] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self), let frame = Frame.parse(buffer) { answered.append(frame.requestID) }
        #expect(answered == Array(3...11))
    }

    /// PING is answered while no db is loaded yet (§10.2), with revision none, so that a client's
    /// keep-alive does not fail; a lookup then is BUSY.
    @Test func pingIsAnsweredBeforeAnyDbIsLoaded() throws {
        let connection = try self.connection(loaded: false)
        try connection.send(.ping, id: 2) { $0.writeString("are you there") }
        let pong = try #require(Frame.parse(try connection.written()))
        #expect(pong.status == .ok)
        #expect(pong.requestID == 2)
        #expect(pong.revision == .none)
        #expect(pong.body == ByteBuffer(string: "are you there"))
        try connection.get("my-app", "dev", id: 3)
        let busy = try #require(Frame.parse(try connection.written()))
        #expect(busy.status == .busy)
        #expect(busy.requestID == 3)
    }

    /// A push is decided on the connection's event loop: one for a swap that happened just before
    /// UNWATCH, still on its way to the loop when UNWATCH is handled, is not sent, since no push may follow
    /// the UNWATCH reply (§7.9). While subscribed, the same path delivers it.
    @Test func noPushFollowsTheUnwatchReply() throws {
        let connection = try self.connection()
        try connection.send(.watch, id: 2) { _ in }
        #expect(try #require(Frame.parse(try connection.written())).requestID == 2)

        connection.store.swap(Self.snapshot(containers: 4))
        connection.channel.embeddedEventLoop.run()
        let push = try #require(Frame.parse(try connection.written()))
        #expect(push.flags == .push)
        #expect(push.opcode == ProtocolOpcode.revisionChanged.rawValue)
        #expect(push.revision == Revision(value: Self.snapshot(containers: 4).revisionNumber))

        connection.store.swap(Self.snapshot(containers: 5))
        try connection.send(.unwatch, id: 3) { _ in }
        connection.channel.embeddedEventLoop.run()
        let reply = try #require(Frame.parse(try connection.written()))
        #expect(reply.requestID == 3)
        #expect(reply.opcode == ProtocolOpcode.unwatch.rawValue)
        #expect(try connection.channel.readOutbound(as: ByteBuffer.self) == nil, "a push after the UNWATCH reply")
    }

    /// A read batch's replies go into the buffer of the batch before once nothing else holds it (no
    /// allocation per request); replies still held by the channel, or by whoever took them, keep their
    /// bytes.
    @Test func repliesReuseTheBufferOfTheBatchBefore() throws {
        let connection = try self.connection()
        var lastAddress: UnsafeRawPointer?
        do {
            try connection.get("my-app", "dev", id: 2)
            let first = try connection.written()
            try connection.get("app-1", "prod", id: 3)
            try connection.get("app-2", "stage", id: 4)
            let second = try connection.written()
            let third = try connection.written()
            try connection.expectReply(first, id: 2, "my-app", "dev")
            try connection.expectReply(second, id: 3, "app-1", "prod")
            try connection.expectReply(third, id: 4, "app-2", "stage")
            lastAddress = third.withUnsafeReadableBytes { UnsafeRawPointer($0.baseAddress) }
        }
        try connection.get("app-1", "dev", id: 5)
        let fourth = try connection.written()
        try connection.expectReply(fourth, id: 5, "app-1", "dev")
        #expect(fourth.withUnsafeReadableBytes { UnsafeRawPointer($0.baseAddress) } == lastAddress)
        _ = try connection.channel.finish()
    }
}
