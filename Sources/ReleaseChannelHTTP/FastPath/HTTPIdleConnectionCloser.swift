import Logging
import NIOCore

/// Closes an HTTP connection that has sent nothing for the idle timeout and has nothing left to be
/// answered, as nginx's `keepalive_timeout` does, so that idle clients do not hold connections (and
/// their descriptors) without end.
///
/// NIO's `IdleStateHandler(readTimeout:)`, in front of this handler, measures the time since the last
/// read and sends `IdleStateEvent.read` each time a timeout passes without one. Hummingbird's own idle
/// timeout cannot be used here: it sits behind ``RawReleaseLookupHandler`` and sees only the requests
/// passed on, so a connection whose lookups are all answered on the fast path would look idle however
/// busy it was. A connection is not idle while the router has a request in hand
/// (``FastPathOrdering/inRouter``, a slow route) or while bytes wait in the channel to be written (a
/// whole-db answer to a client that reads slowly): the event is then let pass, and the next one comes a
/// timeout later.
final class HTTPIdleConnectionCloser: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let ordering: FastPathOrdering
    private let logger: Logger

    init(ordering: FastPathOrdering, logger: Logger) {
        self.ordering = ordering
        self.logger = logger
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        let queuedBytes = (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        guard self.ordering.inRouter == 0, self.ordering.outstanding == 0, queuedBytes == 0 else { return }
        self.logger.debug("closing idle HTTP connection", metadata: ["remote": "\(context.channel.remoteAddress.map { "\($0)" } ?? "unknown")"])
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension HTTPIdleConnectionCloser: Sendable {}
