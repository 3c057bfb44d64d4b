import Hummingbird
import ReleaseChannelTestSupport

/// Runs a Hummingbird application of `router` on 127.0.0.1 (an ephemeral port) while `body` runs with
/// its port, then stops it: the stand-ins for other services (the GitHub API, a registry) in tests.
func withLocalApplication(router: Router<BasicRequestContext>, _ body: (Int) async throws -> Void) async throws {
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let app = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) },
        logger: Fixtures.logger
    )
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestFailure("the local application did not start") }
        try await body(port)
        group.cancelAll()
    }
}
