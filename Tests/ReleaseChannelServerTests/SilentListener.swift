import ReleaseChannelTestSupport
import NIOCore
import NIOPosix

/// A listener on 127.0.0.1 that accepts connections and never answers: a host whose server hangs. Each
/// accepted connection is reported on ``accepted``.
final class SilentListener: Sendable {
    private final class Silent: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let accepted: AsyncStream<Void>.Continuation

        init(accepted: AsyncStream<Void>.Continuation) { self.accepted = accepted }

        func channelActive(context: ChannelHandlerContext) {
            self.accepted.yield()
            context.fireChannelActive()
        }

        // What the client sends is read and dropped.
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
    }

    let channel: any Channel
    let port: Int
    let accepted: AsyncStream<Void>

    init() async throws {
        let (accepted, continuation) = AsyncStream<Void>.makeStream()
        self.channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Silent(accepted: continuation)) }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let port = self.channel.localAddress?.port else { throw TestFailure("the silent listener has no port") }
        self.port = port
        self.accepted = accepted
    }

    func close() {
        self.channel.close(promise: nil)
    }
}
