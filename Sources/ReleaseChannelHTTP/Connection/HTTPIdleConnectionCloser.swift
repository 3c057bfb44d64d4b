import Logging
import Metrics
import NIOCore
import ReleaseChannelTransportSupport

/// Closes an HTTP connection that has sent nothing for the idle timeout and has nothing left to be
/// answered, as nginx's `keepalive_timeout` does, so that idle clients do not hold connections (and
/// their descriptors) without end; and one whose client has taken nothing of an answer for that long,
/// as nginx's `send_timeout` does, so that a client that stops reading does not hold the answer (a
/// whole db is several MB) and the connection for good.
///
/// NIO's `IdleStateHandler(readTimeout:)`, in front of this handler, measures the time since the last
/// read and sends `IdleStateEvent.read` each time a timeout passes without one. Hummingbird's own idle
/// timeout cannot be used here: it sits behind ``RawReleaseLookupHandler`` and sees only the requests
/// passed on, so a connection whose lookups are all answered on the fast path would look idle however
/// busy it was. A connection is not idle while the router has a request in hand
/// (``FastPathOrdering/inRouter``, a slow route) or while bytes wait in the channel to be written (a
/// whole-db answer to a client that reads slowly). In the second case the client's progress decides
/// (``DeliveryProgress``): a connection whose client acknowledged none of the bytes sent to it since the
/// previous event is closed.
final class HTTPIdleConnectionCloser: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let ordering: FastPathOrdering
    private let stalledConnectionsClosed: Counter
    private let logger: Logger
    private var delivery = DeliveryProgress()

    init(ordering: FastPathOrdering, stalledConnectionsClosed: Counter, logger: Logger) {
        self.ordering = ordering
        self.stalledConnectionsClosed = stalledConnectionsClosed
        self.logger = logger
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch self.delivery.check(context.channel) {
        case .nothingQueued:
            guard self.ordering.inRouter == 0, self.ordering.outstanding == 0 else { return }
            self.logger.debug("closing idle HTTP connection", metadata: ["remote": "\(context.channel.remoteDescription)"])
            context.close(promise: nil)
        case .taking:
            return
        case .stopped(let queuedBytes):
            self.logger.notice(
                "closing HTTP connection whose client took none of its answer for the idle timeout",
                metadata: ["remote": "\(context.channel.remoteDescription)", "queued_bytes": "\(queuedBytes)"]
            )
            self.stalledConnectionsClosed.increment()
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension HTTPIdleConnectionCloser: Sendable {}
