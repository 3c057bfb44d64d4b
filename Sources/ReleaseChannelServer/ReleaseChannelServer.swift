import Hummingbird
public import Logging
import NIOCore
import Prometheus
import ReleaseChannelHTTP
import ReleaseChannelTCP
import ReleaseChannelStore
import ServiceLifecycle
import UnixSignals

/// The whole service: loads the db, then runs the HTTP server and the reload triggers in one
/// `ServiceGroup` until SIGTERM/SIGINT (graceful) or cancellation.
public struct ReleaseChannelServer: Sendable {
    public let configuration: ServerConfiguration
    public let logger: Logger

    public init(configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Loads the db and serves until shut down.
    ///
    /// - Parameters:
    ///   - onHTTPListening: Called with the bound HTTP port once the server accepts connections.
    ///   - onTCPListening: Called with the bound binary protocol port.
    /// - Throws: ``DatabaseLoadError`` when the db cannot be loaded at start: a rollout must fail visibly
    ///   rather than serve nothing. ``ListenError`` when a port is taken.
    public func run(
        onHTTPListening: @escaping @Sendable (Int) async -> Void = { _ in },
        onTCPListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let configuration = self.configuration
        let registry = PrometheusCollectorRegistry()
        let metrics = PrometheusMetricsFactory(registry: registry)
        let store = SnapshotStore()
        let coordinator = ReloadCoordinator(
            file: DatabaseFile(path: configuration.databasePath, maximumBytes: configuration.maximumDatabaseBytes),
            store: store,
            logger: self.logger,
            metrics: metrics
        )
        // Trapped before the first load, which can take seconds: SIGHUP's default action ends the process.
        let hangups = configuration.handleSignals ? await UnixSignalsSequence(trapping: .sighup) : nil
        // Not kept in a local: this function runs as long as the server, and a local here would keep the
        // first snapshot (its memory) alive after every reload.
        self.logLoaded(try coordinator.loadInitial(), path: configuration.databasePath)

        let readiness = ReadinessState()
        var accessLogger = self.logger
        accessLogger[metadataKey: "log"] = "access"
        let requestMetrics = HTTPRequestMetrics(factory: metrics)
        let router = HTTPRouterBuilder.makeRouter(
            releases: ReleaseRoutes(store: store),
            operations: OperationsRoutes(
                coordinator: coordinator,
                readiness: readiness,
                reloadAuthorization: ReloadAuthorization(adminToken: configuration.adminToken),
                registry: registry
            ),
            accessLogger: accessLogger,
            metrics: requestMetrics,
            accessLog: configuration.accessLog
        )
        let logger = self.logger
        let serverName = "release-chan"
        let application = Application(
            router: router,
            server: .releaseChannelHTTP1(
                store: store,
                metrics: requestMetrics,
                accessLogger: configuration.accessLog ? accessLogger : nil,
                serverName: serverName,
                idleTimeout: configuration.httpIdleTimeout,
                requestHeadTimeout: configuration.httpRequestHeadTimeout,
                maximumConnections: configuration.httpMaximumConnections
            ),
            configuration: .init(address: .hostname(configuration.host, port: configuration.httpPort), serverName: serverName),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.httpPort
                logger.info("serving HTTP", metadata: ["host": "\(configuration.host)", "port": "\(port)"])
                await onHTTPListening(port)
            },
            logger: self.logger
        )

        var services: [any Service] = [coordinator]
        if configuration.watchFile {
            services.append(DatabaseFileWatcher(path: configuration.databasePath, coordinator: coordinator, logger: self.logger))
        }
        services.append(DatabasePoller(coordinator: coordinator, interval: configuration.reloadInterval, logger: self.logger))
        if let hangups {
            services.append(SignalReloadService(coordinator: coordinator, signals: hangups))
        }
        var protocolConfiguration = ProtocolServerConfiguration()
        protocolConfiguration.host = configuration.host
        protocolConfiguration.port = configuration.tcpPort
        protocolConfiguration.idleTimeout = TimeAmount(configuration.tcpIdleTimeout)
        protocolConfiguration.maximumConnections = configuration.tcpMaximumConnections
        protocolConfiguration.maximumFrameBytes = configuration.tcpMaximumFrameBytes
        services.append(
            ListenerService(
                listener: "binary protocol",
                host: configuration.host,
                port: configuration.tcpPort,
                base: ProtocolServer(store: store, configuration: protocolConfiguration, logger: self.logger, metrics: metrics, onListening: onTCPListening)
            )
        )
        services.append(ListenerService(listener: "HTTP", host: configuration.host, port: configuration.httpPort, base: application))
        services.append(DrainOnShutdownService(readiness: readiness, delay: configuration.drainDelay))

        var groupConfiguration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: configuration.handleSignals ? [.sigterm, .sigint] : [],
            logger: self.logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownTimeout
        groupConfiguration.maximumCancellationDuration = configuration.cancellationTimeout
        try await ServiceGroup(configuration: groupConfiguration).run()
        self.logger.info("stopped")
    }

    private func logLoaded(_ snapshot: Snapshot, path: String) {
        self.logger.info(
            "loaded db",
            metadata: [
                "path": "\(path)",
                "revision": "\(snapshot.revision)",
                "releases": "\(snapshot.releaseCount)",
                "containers": "\(snapshot.containerCount)",
            ]
        )
    }
}
