import Hummingbird
import ReleaseChannelHTTP
import ReleaseChannelStore
import ReleaseChannelTestSupport
import Testing

/// The read routes before any db is loaded: 503 `not_ready` (docs/http-api.md §3). The server binary
/// refuses to start without a db, so the routes run here in an application of their own, on an empty
/// store, over a real socket.
@Suite struct ReleaseRoutesWithoutSnapshotTests {
    @Test func everyReadRouteIsNotReady() async throws {
        let router = Router(context: ReleaseRequestContext.self)
        router.add(middleware: ErrorMappingMiddleware())
        ReleaseRoutes(store: SnapshotStore()).register(on: router)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let application = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: Fixtures.logger
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await application.runService() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            for path in ["/v1/releases", "/v1/releases?container=my-app", "/v1/releases/my-app", "/v1/releases/my-app/prod", "/v1/channels"] {
                let answer = try await RawHTTP.exchange(port: port, request: "GET \(path) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                #expect(answer.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), "\(path): \(answer.prefix(200))")
                #expect(answer.hasSuffix(#"{"error":{"code":"not_ready","message":"no db snapshot is being served yet"}}"#), "\(path): \(answer)")
            }
            group.cancelAll()
        }
    }
}
