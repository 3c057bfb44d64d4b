import Hummingbird
import Logging
import NIOCore

/// The metrics and the access-log line of a request the fast path answers, written as the router's
/// middleware writes them, so that both paths count into the same series and log the same fields.
struct FastPathAccounting {
    /// The two routes the fast path answers, as the router's metrics and access log name them.
    enum Route: String {
        case release = "/v1/releases/{container}/{channel}"
        case wholeDatabase = "/v1/releases"
    }

    private let release: HTTPRequestMetrics.Recorder
    private let wholeDatabase: HTTPRequestMetrics.Recorder
    private let accessLogger: Logger?

    /// Created once per connection: the series are looked up here, not per request.
    init(metrics: HTTPRequestMetrics, accessLogger: Logger?) {
        self.release = metrics.recorder(route: Route.release.rawValue, method: "GET", status: 200)
        self.wholeDatabase = metrics.recorder(route: Route.wholeDatabase.rawValue, method: "GET", status: 200)
        self.accessLogger = accessLogger
    }

    func record(route: Route, path: @autoclosure () -> String, bytes: Int, since start: NIODeadline) {
        let nanoseconds = (NIODeadline.now() - start).nanoseconds
        switch route {
        case .release: self.release.record(nanoseconds: nanoseconds)
        case .wholeDatabase: self.wholeDatabase.record(nanoseconds: nanoseconds)
        }
        guard let accessLogger = self.accessLogger else { return }
        accessLogger.info(
            "request",
            metadata: [
                "method": "GET",
                "path": "\(path())",
                "route": "\(route.rawValue)",
                "status": "200",
                "bytes": "\(bytes)",
                "duration_us": "\(nanoseconds / 1000)",
                "request_id": "\(RequestID())",
            ]
        )
    }
}
