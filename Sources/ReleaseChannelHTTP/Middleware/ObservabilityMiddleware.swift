public import Hummingbird
public import Logging
public import Metrics
import Synchronization

/// Counts and times every request by route and status, and writes the structured access log.
public struct ObservabilityMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger
    let factory: any MetricsFactory
    let accessLog: Bool
    private let handles = MetricHandles()

    /// - Parameters:
    ///   - logger: Access log destination (`release_chan.access`).
    ///   - factory: Where request metrics go (the server's Prometheus registry).
    ///   - accessLog: Whether to log one line per request at `info`.
    public init(logger: Logger, factory: any MetricsFactory, accessLog: Bool) {
        self.logger = logger
        self.factory = factory
        self.accessLog = accessLog
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let status: Int
        let bytes: Int?
        do {
            let response = try await next(request, context)
            status = response.status.code
            bytes = response.body.contentLength
            self.record(request, context: context, status: status, bytes: bytes, start: start)
            return response
        } catch {
            status = (error as? any HTTPResponseError)?.status.code ?? 500
            self.record(request, context: context, status: status, bytes: nil, start: start)
            throw error
        }
    }

    private func record(_ request: Request, context: Context, status: Int, bytes: Int?, start: ContinuousClock.Instant) {
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        let route = context.endpointPath ?? "unmatched"
        let method = request.method.rawValue
        let (counter, timer) = self.handles.get(route: route, method: method, status: status, factory: self.factory)
        counter.increment()
        timer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        guard self.accessLog else { return }
        self.logger.info(
            "request",
            metadata: [
                "method": "\(method)",
                "path": "\(request.uri.path)",
                "route": "\(route)",
                "status": "\(status)",
                "bytes": "\(bytes.map(String.init) ?? "-")",
                "duration_us": "\(seconds * 1_000_000 + attoseconds / 1_000_000_000_000)",
                "request_id": "\(context.id)",
            ]
        )
    }
}

/// The counters and timers already created, by route, method and status: creating them through the
/// factory per request would build label arrays and look them up in the registry every time.
private final class MetricHandles: Sendable {
    private struct Key: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    private let handles = Mutex<[Key: (Counter, Timer)]>([:])

    func get(route: String, method: String, status: Int, factory: any MetricsFactory) -> (Counter, Timer) {
        let key = Key(route: route, method: method, status: status)
        if let handles = self.handles.withLock({ $0[key] }) { return handles }
        let counter = Counter(
            label: "release_chan_http_requests_total",
            dimensions: [("route", route), ("method", method), ("status", String(status))],
            factory: factory
        )
        let timer = Timer(label: "release_chan_http_request_duration_seconds", dimensions: [("route", route), ("method", method)], factory: factory)
        self.handles.withLock { $0[key] = (counter, timer) }
        return (counter, timer)
    }
}
