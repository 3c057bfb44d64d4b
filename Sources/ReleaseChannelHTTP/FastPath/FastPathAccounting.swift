import Hummingbird
import Logging
import NIOCore

/// The metrics and the access-log line of a request the fast path answers, written as the router's
/// middleware writes them, so that both paths count into the same series and log the same fields.
struct FastPathAccounting {
    let metrics: HTTPRequestMetrics
    let accessLogger: Logger?

    func record(route: String, path: @autoclosure () -> String, bytes: Int, since start: NIODeadline) {
        let nanoseconds = (NIODeadline.now() - start).nanoseconds
        self.metrics.record(route: route, method: "GET", status: 200, nanoseconds: nanoseconds)
        guard let accessLogger = self.accessLogger else { return }
        accessLogger.info(
            "request",
            metadata: [
                "method": "GET",
                "path": "\(path())",
                "route": "\(route)",
                "status": "200",
                "bytes": "\(bytes)",
                "duration_us": "\(nanoseconds / 1000)",
                "request_id": "\(RequestID())",
            ]
        )
    }
}
