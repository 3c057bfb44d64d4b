import CSystemShims
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

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
/// whole-db answer to a client that reads slowly). In the second case the client's progress decides:
/// the bytes it has acknowledged (the kernel's `tcpi_bytes_acked`) are noted at each event, and a
/// connection whose client acknowledged nothing since the previous event is closed. NIO's own measure
/// of progress would not do: it sees a write complete only when all of it is out (a `FileRegion` at its
/// end), and the kernel takes more from it only once a third of the socket's buffer is free.
final class HTTPIdleConnectionCloser: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let ordering: FastPathOrdering
    private let logger: Logger
    /// The client's acknowledged byte count at the previous event, when that event found bytes waiting.
    private var acknowledgedAtLastEvent: UInt64?

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
        guard queuedBytes > 0 else {
            self.acknowledgedAtLastEvent = nil
            guard self.ordering.inRouter == 0, self.ordering.outstanding == 0 else { return }
            self.logger.debug("closing idle HTTP connection", metadata: ["remote": "\(Self.remote(context))"])
            context.close(promise: nil)
            return
        }
        #if os(Linux)
        guard let provider = context.channel as? any SocketOptionProvider else { return }
        // On the channel's own event loop, so the future is already complete.
        let info: EventLoopFuture<release_chan_tcp_info> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(IPPROTO_TCP),
            name: SocketOptionName(TCP_INFO)
        )
        info.assumeIsolated().whenSuccess { info in
            var info = info
            let acknowledged = release_chan_tcp_bytes_acked(&info)
            defer { self.acknowledgedAtLastEvent = acknowledged }
            // 0: a kernel that does not report it; the connection is then kept (as off Linux, where
            // TCP_INFO is another struct).
            guard acknowledged > 0, acknowledged == self.acknowledgedAtLastEvent else { return }
            self.logger.notice(
                "closing HTTP connection whose client took none of its answer for the idle timeout",
                metadata: ["remote": "\(Self.remote(context))", "queued_bytes": "\(queuedBytes)"]
            )
            context.close(promise: nil)
        }
        #endif
    }

    private static func remote(_ context: ChannelHandlerContext) -> String {
        context.channel.remoteAddress.map { "\($0)" } ?? "unknown"
    }
}

@available(*, unavailable)
extension HTTPIdleConnectionCloser: Sendable {}
