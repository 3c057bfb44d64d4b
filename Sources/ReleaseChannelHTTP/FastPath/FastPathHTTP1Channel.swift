public import HummingbirdCore
public import Logging
import NIOCore
import NIOHTTPTypesHTTP1
public import ReleaseChannelStore
import ReleaseChannelTransportSupport

/// Hummingbird's HTTP/1.1 channel with the fast path in its pipeline: ``RawReleaseLookupHandler`` in
/// front of the HTTP/1 decoder (the two hot lookups answered from the raw bytes),
/// ``FastPathOrderingHandler`` after the decoder, which tells it when the requests it passed on have
/// been answered, ``HTTPConnectionCloseHandler`` there too, which makes Hummingbird end a connection
/// whenever the request says so, ``HTTPParserErrorResponder``, which gives the 400 for a request the
/// parser refuses its JSON body, and the timeouts: NIO's `IdleStateHandler` and ``HTTPIdleConnectionCloser`` in
/// front of them all, where every byte the connection reads goes by, then
/// ``HTTPRequestHeadTimeoutHandler``, and ``DecodedRequestCounter`` after the decoder, for the requests
/// the router has in hand and the heads the decoder has read. In front of everything,
/// ``HTTPConnectionLimitHandler`` turns away the connection over the cap.
struct FastPathHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let inner: HTTP1Channel
    let store: SnapshotStore
    let metrics: HTTPRequestMetrics
    let accessLogger: Logger?
    let serverName: String
    let idleTimeout: TimeAmount?
    let requestHeadTimeout: TimeAmount?
    let limiter: ConnectionLimiter?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        self.inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            let ordering = FastPathOrdering()
            try pipeline.addHandler(HTTPConnectionCloseHandler(), position: .before(codec))
            try pipeline.addHandler(HTTPParserErrorResponder(serverName: self.serverName), position: .before(codec))
            try pipeline.addHandler(FastPathOrderingHandler(ordering: ordering), position: .before(codec))
            if self.idleTimeout != nil || self.requestHeadTimeout != nil {
                try pipeline.addHandler(DecodedRequestCounter(ordering: ordering), position: .before(codec))
            }
            let raw = RawReleaseLookupHandler(
                store: self.store,
                ordering: ordering,
                accounting: FastPathAccounting(metrics: self.metrics, accessLogger: self.accessLogger),
                serverName: self.serverName
            )
            try pipeline.addHandler(raw, position: .first)
            if let requestHeadTimeout = self.requestHeadTimeout {
                let timer = HTTPRequestHeadTimeoutHandler(
                    ordering: ordering,
                    timeout: requestHeadTimeout,
                    timeouts: self.metrics.requestHeadTimeouts,
                    serverName: self.serverName,
                    logger: logger
                )
                try pipeline.addHandler(timer, position: .first)
            }
            if let idleTimeout = self.idleTimeout {
                let closer = HTTPIdleConnectionCloser(ordering: ordering, stalledConnectionsClosed: self.metrics.stalledConnectionsClosed, logger: logger)
                try pipeline.addHandler(closer, position: .first)
                try pipeline.addHandler(IdleStateHandler(readTimeout: idleTimeout), position: .first)
            }
            if let limiter = self.limiter {
                let limit = HTTPConnectionLimitHandler(limiter: limiter, rejected: self.metrics.rejectedConnections, serverName: self.serverName, logger: logger)
                try pipeline.addHandler(limit, position: .first)
            }
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await self.inner.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with the release lookups answered on the event loop (see ``RawReleaseLookupHandler``).
    /// - Parameters:
    ///   - store: The snapshots the router's routes serve too.
    ///   - metrics: The router's request metrics, so both paths count into the same series.
    ///   - accessLogger: Where to write the access log, or nil when it is off.
    ///   - serverName: The `Server` header, as the application's configuration sets it.
    ///   - idleTimeout: A connection that sends nothing for this long, with nothing left to answer, is
    ///     closed; nil keeps idle connections open.
    ///   - requestHeadTimeout: A connection whose client takes longer than this to send a request head
    ///     is answered 408 and closed; nil lets a head take as long as the idle timeout allows.
    ///   - maximumConnections: Connections over this number are answered 503 and closed; nil sets no cap.
    public static func releaseChannelHTTP1(
        store: SnapshotStore,
        metrics: HTTPRequestMetrics,
        accessLogger: Logger?,
        serverName: String,
        idleTimeout: Duration?,
        requestHeadTimeout: Duration?,
        maximumConnections: Int?
    ) -> HTTPServerBuilder {
        let limiter = maximumConnections.map { ConnectionLimiter(maximum: $0, gauge: metrics.connections) }
        return HTTPServerBuilder { responder in
            FastPathHTTP1Channel(
                inner: HTTP1Channel(responder: responder),
                store: store,
                metrics: metrics,
                accessLogger: accessLogger,
                serverName: serverName,
                idleTimeout: idleTimeout.map { TimeAmount($0) },
                requestHeadTimeout: requestHeadTimeout.map { TimeAmount($0) },
                limiter: limiter
            )
        }
    }
}
