import NIOCore
import NIOPosix
import ReleaseChannelTestSupport

/// An HTTP listener on 127.0.0.1 that answers every connection with a status line and then one header
/// field every 200 ms, never ending the head: a server slow enough to hold a client whose timeout is
/// only an idle timeout.
final class TricklingListener: Sendable {
    private final class Trickle: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        /// The request may arrive in several reads: it is answered once (a second status line inside the
        /// head made curl fail with "Header without colon" instead of waiting).
        private var answering = false

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard context.channel.isActive, !self.answering else { return }
            self.answering = true
            let channel = context.channel
            channel.writeAndFlush(ByteBuffer(string: "HTTP/1.1 204 No Content\r\n"), promise: nil)
            let task = channel.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(200), delay: .milliseconds(200)) { _ in
                channel.writeAndFlush(ByteBuffer(string: "X-Slow: 1\r\n"), promise: nil)
            }
            channel.closeFuture.whenComplete { _ in task.cancel() }
        }
    }

    let channel: any Channel
    let port: Int

    init() async throws {
        self.channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Trickle()) }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let port = self.channel.localAddress?.port else { throw TestFailure("the trickling listener has no port") }
        self.port = port
    }

    func close() {
        self.channel.close(promise: nil)
    }
}
