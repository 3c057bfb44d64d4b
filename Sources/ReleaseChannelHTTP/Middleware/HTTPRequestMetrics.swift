public import Metrics
import Synchronization

/// The request counters and timers (`release_chan_http_requests_total`,
/// `release_chan_http_request_duration_seconds`), shared by the middleware and the fast path so that
/// both count into the same series; and the counts of connections closed because their client took
/// none of a response for the idle timeout (`release_chan_http_stalled_connections_closed_total`) or
/// did not complete a request head within the request-head timeout
/// (`release_chan_http_request_head_timeouts_total`); and the open connections and those turned away
/// over the cap (`release_chan_http_connections`, `release_chan_http_rejected_connections_total`).
///
/// Handles are created once per route, method and status: creating them through the factory per
/// request would build label arrays and look them up in the registry every time.
public final class HTTPRequestMetrics: Sendable {
    private struct Key: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    private let factory: any MetricsFactory
    private let handles = Mutex<[Key: (Counter, Timer)]>([:])
    /// Connections closed by ``HTTPIdleConnectionCloser`` with a response their client stopped taking.
    let stalledConnectionsClosed: Counter
    /// Connections answered 408 and closed by ``HTTPRequestHeadTimeoutHandler``.
    let requestHeadTimeouts: Counter
    /// Open connections, kept by the connection cap's ``ConnectionLimiter``.
    let connections: Gauge
    /// Connections turned away by ``HTTPConnectionLimitHandler``.
    let rejectedConnections: Counter

    public init(factory: any MetricsFactory) {
        self.factory = factory
        self.stalledConnectionsClosed = Counter(label: "release_chan_http_stalled_connections_closed_total", factory: factory)
        self.requestHeadTimeouts = Counter(label: "release_chan_http_request_head_timeouts_total", factory: factory)
        self.connections = Gauge(label: "release_chan_http_connections", factory: factory)
        self.rejectedConnections = Counter(label: "release_chan_http_rejected_connections_total", factory: factory)
    }

    /// Counts one request and records how long it took.
    func record(route: String, method: String, status: Int, nanoseconds: Int64) {
        self.recorder(route: route, method: method, status: status).record(nanoseconds: nanoseconds)
    }

    /// The series of one route, method and status, for a caller that records into it per request
    /// (the fast path keeps one per connection, so a request takes neither the lock nor the lookup).
    struct Recorder {
        let counter: Counter
        let timer: Timer

        func record(nanoseconds: Int64) {
            self.counter.increment()
            self.timer.recordNanoseconds(nanoseconds)
        }
    }

    func recorder(route: String, method: String, status: Int) -> Recorder {
        let (counter, timer) = self.handles(route: route, method: method, status: status)
        return Recorder(counter: counter, timer: timer)
    }

    private func handles(route: String, method: String, status: Int) -> (Counter, Timer) {
        let key = Key(route: route, method: method, status: status)
        if let handles = self.handles.withLock({ $0[key] }) { return handles }
        let counter = Counter(
            label: "release_chan_http_requests_total",
            dimensions: [("route", route), ("method", method), ("status", String(status))],
            factory: self.factory
        )
        let timer = Timer(label: "release_chan_http_request_duration_seconds", dimensions: [("route", route), ("method", method)], factory: self.factory)
        self.handles.withLock { $0[key] = (counter, timer) }
        return (counter, timer)
    }
}
