import Logging
import Metrics
import NIOCore
import ReleaseChannelTransportSupport

/// Turns away an HTTP connection over the cap (`--http-max-connections`) with `503
/// too_many_connections`, as the binary protocol turns one away with ERROR BUSY: without a cap, a
/// client that opens connections without end uses up the process's descriptors, and with them the
/// reloads' reads of the db file.
///
/// The 503 answers the client's first bytes, not the accept: closed with a request still unread in its
/// socket, the connection would be reset, and a client can lose a response to the reset before it has
/// read it. A connection over the cap that sends nothing is closed after a grace period, unanswered.
/// An admitted connection takes this handler out of its pipeline, so that its reads do not pass
/// through it; the count is given back when the channel closes.
final class HTTPConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let limiter: ConnectionLimiter
    private let rejected: Counter
    private let serverName: String
    private let logger: Logger
    private var turnedAway = false
    private var answered = false

    init(limiter: ConnectionLimiter, rejected: Counter, serverName: String, logger: Logger) {
        self.limiter = limiter
        self.rejected = rejected
        self.serverName = serverName
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        guard self.limiter.acquire() else {
            self.turnedAway = true
            self.rejected.increment()
            self.logger.debug("turning away an HTTP connection over the cap", metadata: ["limit": "\(self.limiter.maximum)"])
            let channel = context.channel
            context.eventLoop.scheduleTask(in: Self.silentClientGracePeriod) { channel.close(promise: nil) }
            context.fireChannelActive()
            return
        }
        let limiter = self.limiter
        context.channel.closeFuture.whenComplete { _ in limiter.release() }
        context.fireChannelActive()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard self.turnedAway else {
            context.fireChannelRead(data)
            return
        }
        guard !self.answered else { return }
        self.answered = true
        ClosingErrorResponse(error: .tooManyConnections(limit: self.limiter.maximum)).send(context: context, serverName: self.serverName)
    }

    /// How long a connection over the cap may take to send its first bytes before it is closed unanswered.
    static let silentClientGracePeriod: TimeAmount = .seconds(2)
}

@available(*, unavailable)
extension HTTPConnectionLimitHandler: Sendable {}
