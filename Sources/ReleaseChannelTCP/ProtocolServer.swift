public import Logging
public import Metrics
import NIOCore
import NIOExtras
import NIOPosix
import ReleaseChannelProtocol
public import ReleaseChannelStore
import ReleaseChannelTransportSupport
public import ServiceLifecycle

/// The binary lookup protocol listener (docs/protocol.md), a `Service` beside the HTTP server.
///
/// Plain NIO channel handlers on the event loops serve the lookups: no task hop and no lock per request.
/// On graceful shutdown it stops accepting, lets each connection answer what it has read, then closes.
public struct ProtocolServer: Service {
    let store: SnapshotStore
    let configuration: ProtocolServerConfiguration
    let logger: Logger
    let metrics: any MetricsFactory
    let onListening: @Sendable (Int) async -> Void

    public init(
        store: SnapshotStore,
        configuration: ProtocolServerConfiguration,
        logger: Logger,
        metrics: any MetricsFactory,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.onListening = onListening
    }

    public func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let quiesce = ServerQuiescingHelper(group: group)
        let store = self.store
        let configuration = self.configuration
        let metrics = ProtocolMetrics(factory: self.metrics)
        let limiter = ConnectionLimiter(maximum: configuration.maximumConnections, gauge: metrics.connections)
        let logger = self.logger
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // A client's half-close reaches the handler, which sends what is still queued before closing.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 64 * 1024, high: 256 * 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(
                        ProtocolConnectionHandler(store: store, configuration: configuration, metrics: metrics, limiter: limiter, logger: logger)
                    )
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        let port = channel.localAddress?.port ?? configuration.port
        self.logger.info("serving binary protocol", metadata: ["host": "\(configuration.host)", "port": "\(port)"])
        await self.onListening(port)

        try? await gracefulShutdown()
        self.logger.debug("binary protocol shutting down", metadata: ["connections": "\(limiter.current)"])
        let done = group.next().makePromise(of: Void.self)
        quiesce.initiateShutdown(promise: done)
        // Wait for the connections to finish, but give up at once when cancelled (the group's shutdown
        // timeout passed): the process is going away and must not hang on a client that stopped reading.
        let waiter = OnceContinuation()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                waiter.set(continuation)
                done.futureResult.whenComplete { _ in waiter.resume() }
            }
        } onCancel: {
            waiter.resume()
        }
    }
}
