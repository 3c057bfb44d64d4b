import ReleaseChannelHTTP
import ServiceLifecycle

/// Placed last in the service group so that it is the first to hear of a graceful shutdown: it turns
/// `/v1/ready` to 503 and waits the drain delay before the HTTP server stops accepting connections.
struct DrainOnShutdownService: Service {
    let readiness: ReadinessState
    let delay: Duration

    func run() async throws {
        try? await gracefulShutdown()
        self.readiness.beginDraining()
        if self.delay > .zero {
            try? await Task.sleep(for: self.delay)
        }
    }
}
