import NIOCore
import NIOPosix
import ReleaseChannelClient
import ReleaseChannelTestSupport
import Testing

/// The SDK against a server that breaks the protocol after a correct handshake (docs/protocol.md §11.3):
/// the client must close the connection rather than carry on. The server here is a real listener on
/// 127.0.0.1 that answers HELLO, then sends one bad frame.
@Suite struct ClientProtocolViolationTests {
    /// Answers each connection's HELLO, then writes `badFrame`; reports each connection's close.
    final class MisbehavingHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = Frame
        let badFrame: @Sendable (ByteBufferAllocator) -> ByteBuffer
        let closed: AsyncStream<Void>.Continuation

        init(badFrame: @escaping @Sendable (ByteBufferAllocator) -> ByteBuffer, closed: AsyncStream<Void>.Continuation) {
            self.badFrame = badFrame
            self.closed = closed
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = self.unwrapInboundIn(data)
            guard frame.opcode == ProtocolOpcode.hello.rawValue else {
                // Every other request (WATCH, PING) gets an empty OK reply: nothing else ends the connection.
                var reply = context.channel.allocator.buffer(capacity: 20)
                reply.writeFrame(opcode: frame.opcode, flags: .reply, requestID: frame.requestID, revision: Revision(value: 1)) { _ in }
                context.writeAndFlush(NIOAny(reply), promise: nil)
                return
            }
            var reply = context.channel.allocator.buffer(capacity: 64)
            reply.writeFrame(opcode: frame.opcode, flags: .reply, requestID: frame.requestID, revision: Revision(value: 1)) {
                ProtocolMessages.HelloReply(version: Frame.currentVersion, maximumFrameBytes: 65536, serverID: "misbehaving", loadedAtMilliseconds: 0).write(to: &$0)
            }
            context.write(NIOAny(reply), promise: nil)
            context.writeAndFlush(NIOAny(self.badFrame(context.channel.allocator)), promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.closed.yield()
        }
    }

    @Test(arguments: ["neither REPLY nor PUSH", "malformed REVISION_CHANGED push"])
    func theClientClosesAConnectionThatBreaksTheProtocol(violation: String) async throws {
        let badFrame: @Sendable (ByteBufferAllocator) -> ByteBuffer = { allocator in
            var buffer = allocator.buffer(capacity: 32)
            if violation == "neither REPLY nor PUSH" {
                buffer.writeFrame(opcode: ProtocolOpcode.get.rawValue, flags: [], requestID: 7, revision: Revision(value: 1)) { _ in }
            } else {
                // A REVISION_CHANGED body is 16 bytes; this one stops after 3.
                buffer.writeFrame(opcode: ProtocolOpcode.revisionChanged.rawValue, flags: .push, requestID: 0, revision: Revision(value: 2)) {
                    $0.writeBytes([1, 2, 3])
                }
            }
            return buffer
        }
        let (closed, continuation) = AsyncStream<Void>.makeStream()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maximumFrameBytes: 65536)))
                    try channel.pipeline.syncOperations.addHandler(MisbehavingHandler(badFrame: badFrame, closed: continuation))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        defer { server.close(promise: nil) }
        let port = try #require(server.localAddress?.port)
        var configuration = ReleaseChannelClientConfiguration(endpoints: [.init(host: "127.0.0.1", port: port)])
        configuration.reconnectInitialDelay = .seconds(5)
        configuration.requestTimeout = .seconds(60)
        let client = ReleaseChannelClient(configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            // The first connection is closed by the client, not kept open with the bad frame ignored
            // (bounded: a client that ignores the frame would keep it open for good).
            let closedInTime = await withTaskGroup(of: Bool.self) { race in
                race.addTask {
                    var closes = closed.makeAsyncIterator()
                    return await closes.next() != nil
                }
                race.addTask {
                    try? await Task.sleep(for: .seconds(10))
                    return false
                }
                let first = await race.next() ?? false
                race.cancelAll()
                return first
            }
            #expect(closedInTime, "the client kept a connection that sent a \(violation)")
            client.close()
            try await group.waitForAll()
        }
    }
}
