public import HummingbirdCore
public import Logging
import NIOCore
import NIOHTTPTypesHTTP1
public import ReleaseChannelStore

/// Hummingbird's HTTP/1.1 channel with the fast path in its pipeline: ``RawReleaseLookupHandler`` in
/// front of the HTTP/1 decoder (the two hot lookups answered from the raw bytes),
/// ``FastPathOrderingHandler`` after the decoder, which tells it when the requests it passed on have
/// been answered, and the idle timeout: NIO's `IdleStateHandler` and ``HTTPIdleConnectionCloser`` in
/// front of them all, where every byte the connection reads goes by, and ``DecodedRequestCounter``
/// after the decoder, for the requests the router has in hand.
struct FastPathHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let inner: HTTP1Channel
    let store: SnapshotStore
    let metrics: HTTPRequestMetrics
    let accessLogger: Logger?
    let serverName: String
    let idleTimeout: TimeAmount?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        self.inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            let ordering = FastPathOrdering()
            try pipeline.addHandler(FastPathOrderingHandler(ordering: ordering), position: .before(codec))
            if self.idleTimeout != nil {
                try pipeline.addHandler(DecodedRequestCounter(ordering: ordering), position: .before(codec))
            }
            let raw = RawReleaseLookupHandler(
                store: self.store,
                ordering: ordering,
                accounting: FastPathAccounting(metrics: self.metrics, accessLogger: self.accessLogger),
                serverName: self.serverName
            )
            try pipeline.addHandler(raw, position: .first)
            if let idleTimeout = self.idleTimeout {
                let closer = HTTPIdleConnectionCloser(ordering: ordering, stalledConnectionsClosed: self.metrics.stalledConnectionsClosed, logger: logger)
                try pipeline.addHandler(closer, position: .first)
                try pipeline.addHandler(IdleStateHandler(readTimeout: idleTimeout), position: .first)
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
    public static func releaseChannelHTTP1(
        store: SnapshotStore,
        metrics: HTTPRequestMetrics,
        accessLogger: Logger?,
        serverName: String,
        idleTimeout: Duration?
    ) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            FastPathHTTP1Channel(
                inner: HTTP1Channel(responder: responder),
                store: store,
                metrics: metrics,
                accessLogger: accessLogger,
                serverName: serverName,
                idleTimeout: idleTimeout.map { TimeAmount($0) }
            )
        }
    }
}
