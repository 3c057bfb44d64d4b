import NIOCore

/// One Redis connection under load: `GET container:channel` for the same keys the other modes draw.
///
/// It lets one load generator drive both release-chan and Redis, so that their latencies are measured
/// the same way: redis-benchmark writes a connection's next request one event-loop turn after reading
/// the reply and starts its clock at that write, so fewer requests are in flight than it has
/// connections, and a closed loop at the same rate shows lower latencies than one that writes at once.
final class RedisLoadHandler: ChannelInboundHandler, LoadConnection {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    var driver: LoadDriver
    var ticker: Scheduled<Void>?
    var needsFlush = false
    private let done: EventLoopPromise<ConnectionResult>
    private let commands: WireKeys
    private var replies = RESPReplyReader()
    /// Requests queued since the last flush.
    private var requests: ByteBuffer?

    init(driver: LoadDriver, commands: WireKeys, done: EventLoopPromise<ConnectionResult>) {
        self.driver = driver
        self.commands = commands
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        self.startLoad(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.replies.append(self.unwrapInboundIn(data))
        let now = NIODeadline.now()
        do {
            while let found = try self.replies.next() {
                self.replied(context: context, ok: found, now: now)
            }
        } catch {
            self.errorCaught(context: context, error: error)
        }
    }

    func send(context: ChannelHandlerContext, intendedStart: NIODeadline) {
        let key = self.driver.nextRequest(intendedStart: intendedStart)
        var buffer = self.requests.take() ?? context.channel.allocator.buffer(capacity: 64 * max(1, self.driver.pipeline))
        self.commands.withKey(key) { _ = buffer.writeBytes($0) }
        self.requests = buffer
    }

    func flushRequests(context: ChannelHandlerContext) {
        guard let requests = self.requests else { return }
        self.requests = nil
        context.writeAndFlush(self.wrapOutboundOut(requests), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.readComplete(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.ticker?.cancel()
        self.done.succeed(self.driver.result)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.driver.result.connectionErrors += 1
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension RedisLoadHandler: Sendable {}
