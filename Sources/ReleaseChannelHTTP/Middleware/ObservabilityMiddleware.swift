public import Hummingbird
public import Logging

/// Counts and times every request by route and status, and writes the structured access log.
public struct ObservabilityMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger
    let metrics: HTTPRequestMetrics
    let accessLog: Bool

    /// - Parameters:
    ///   - logger: Access log destination (`release_chan.access`).
    ///   - metrics: Where request metrics go (the server's Prometheus registry).
    ///   - accessLog: Whether to log one line per request at `info`.
    public init(logger: Logger, metrics: HTTPRequestMetrics, accessLog: Bool) {
        self.logger = logger
        self.metrics = metrics
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
        self.metrics.record(route: route, method: method, status: status, nanoseconds: seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
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
