import ArgumentParser
import Foundation
import Logging
import NIOCore
import ReleaseChannelProtocol
import ReleaseChannelServer
import ReleaseChannelStore

/// `release-chan serve`: run the HTTP API on a db file.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the release database over HTTP and the binary protocol, reloading it when the file changes.",
        discussion: """
            Every option can also be set through an environment variable (shown in brackets); a flag wins \
            over the variable. SIGHUP reloads the db; SIGTERM and SIGINT shut down gracefully. Exit status: \
            0 shut down, 1 the db cannot be loaded, 2 usage, 4 a port cannot be listened on.
            """
    )

    @Option(name: .customLong("db"), help: "Path of the db file. [RELEASE_CHAN_DB, default db/db.json]")
    var database: String?

    @Option(help: "Address to listen on. [RELEASE_CHAN_HOST, default 0.0.0.0]")
    var host: String?

    @Option(parsing: .unconditional, help: "HTTP port (0 picks a free one). [RELEASE_CHAN_HTTP_PORT, default 8089]")
    var httpPort: Int?

    @Option(parsing: .unconditional, help: "Binary lookup protocol port (0 picks a free one). [RELEASE_CHAN_TCP_PORT, default 8090]")
    var tcpPort: Int?

    @Option(help: "Close HTTP connections that send nothing this long, or whose client takes none of a response this long, e.g. 75s. [RELEASE_CHAN_HTTP_IDLE_TIMEOUT, default 75s]")
    var httpIdleTimeout: String?

    @Option(help: "Answer 408 and close HTTP connections whose client takes longer than this to send a request head, e.g. 20s. [RELEASE_CHAN_HTTP_REQUEST_HEAD_TIMEOUT, default 20s]")
    var httpRequestHeadTimeout: String?

    @Option(parsing: .unconditional, help: "Most simultaneous HTTP connections; the one over is answered 503. [RELEASE_CHAN_HTTP_MAX_CONNECTIONS, default 4096]")
    var httpMaxConnections: Int?

    @Option(help: "Close protocol connections that complete no frame this long (and take none of a reply), e.g. 300s. [RELEASE_CHAN_TCP_IDLE_TIMEOUT, default 300s]")
    var tcpIdleTimeout: String?

    @Option(parsing: .unconditional, help: "Most simultaneous protocol connections. [RELEASE_CHAN_TCP_MAX_CONNECTIONS, default 1024]")
    var tcpMaxConnections: Int?

    @Option(help: "Largest frame a protocol client may send, 1KiB to 16MiB, e.g. 65536, 1MiB. [RELEASE_CHAN_TCP_MAX_FRAME, default 64KiB]")
    var tcpMaxFrame: String?

    @Option(help: "Interval of the fallback file check, e.g. 30s, 500ms, 2m. [RELEASE_CHAN_RELOAD_INTERVAL, default 30s]")
    var reloadInterval: String?

    @Option(help: "Largest db file accepted, e.g. 268435456, 64MiB. [RELEASE_CHAN_MAX_DB_BYTES, default 256MiB]")
    var maxDbBytes: String?

    @Option(help: "File holding the bearer token required by POST /v1/reload. [RELEASE_CHAN_ADMIN_TOKEN_FILE; or the token itself in RELEASE_CHAN_ADMIN_TOKEN]")
    var adminTokenFile: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical. [RELEASE_CHAN_LOG_LEVEL, default info]")
    var logLevel: String?

    @Option(help: "Watch the db directory with inotify: true or false. [RELEASE_CHAN_WATCH, default true]")
    var watch: String?

    @Option(help: "Log one line per request: true or false. [RELEASE_CHAN_ACCESS_LOG, default true]")
    var accessLog: String?

    @Option(help: "Time /v1/ready reports 503 before the listener closes on shutdown. [RELEASE_CHAN_DRAIN_DELAY, default 0s]")
    var drainDelay: String?

    @Option(help: "Longest wait for in-flight requests on shutdown. [RELEASE_CHAN_SHUTDOWN_TIMEOUT, default 10s]")
    var shutdownTimeout: String?

    @Option(parsing: .unconditional, help: "Event-loop threads serving HTTP and the binary protocol. [RELEASE_CHAN_EVENT_LOOP_THREADS, default: one per core]")
    var eventLoopThreads: Int?

    func run() async throws {
        // Must be set before anything touches the shared event-loop group.
        NIOSingletons.groupLoopCountSuggestion = try EnvironmentValue.value(
            self.eventLoopThreads.map(String.init), "--event-loop-threads", "RELEASE_CHAN_EVENT_LOOP_THREADS", default: System.coreCount
        ) { Int($0).flatMap { (1...256).contains($0) ? $0 : nil } }
        var configuration = ServerConfiguration()
        configuration.databasePath = try EnvironmentValue.value(self.database, "--db", "RELEASE_CHAN_DB", default: "db/db.json") { $0 }
        configuration.host = try EnvironmentValue.value(self.host, "--host", "RELEASE_CHAN_HOST", default: "0.0.0.0") { $0 }
        configuration.httpPort = try EnvironmentValue.value(self.httpPort.map(String.init), "--http-port", "RELEASE_CHAN_HTTP_PORT", default: 8089, parse: Self.port)
        configuration.tcpPort = try EnvironmentValue.value(self.tcpPort.map(String.init), "--tcp-port", "RELEASE_CHAN_TCP_PORT", default: 8090, parse: Self.port)
        guard configuration.httpPort != configuration.tcpPort || configuration.httpPort == 0 else {
            throw ValidationError("the HTTP and binary protocol ports must differ (both are \(configuration.httpPort))")
        }
        configuration.httpIdleTimeout = try EnvironmentValue.value(
            self.httpIdleTimeout, "--http-idle-timeout", "RELEASE_CHAN_HTTP_IDLE_TIMEOUT", default: .seconds(75)
        ) { EnvironmentValue.parseDuration($0).flatMap { $0 > .zero ? $0 : nil } }
        configuration.httpRequestHeadTimeout = try EnvironmentValue.value(
            self.httpRequestHeadTimeout, "--http-request-head-timeout", "RELEASE_CHAN_HTTP_REQUEST_HEAD_TIMEOUT", default: .seconds(20)
        ) { EnvironmentValue.parseDuration($0).flatMap { $0 > .zero ? $0 : nil } }
        configuration.httpMaximumConnections = try EnvironmentValue.value(
            self.httpMaxConnections.map(String.init), "--http-max-connections", "RELEASE_CHAN_HTTP_MAX_CONNECTIONS", default: 4096
        ) { Int($0).flatMap { $0 > 0 ? $0 : nil } }
        configuration.tcpIdleTimeout = try EnvironmentValue.value(
            self.tcpIdleTimeout, "--tcp-idle-timeout", "RELEASE_CHAN_TCP_IDLE_TIMEOUT", default: .seconds(300)
        ) { EnvironmentValue.parseDuration($0).flatMap { $0 > .zero ? $0 : nil } }
        configuration.tcpMaximumConnections = try EnvironmentValue.value(
            self.tcpMaxConnections.map(String.init), "--tcp-max-connections", "RELEASE_CHAN_TCP_MAX_CONNECTIONS", default: 1024
        ) { Int($0).flatMap { $0 > 0 ? $0 : nil } }
        configuration.tcpMaximumFrameBytes = try EnvironmentValue.value(
            self.tcpMaxFrame, "--tcp-max-frame", "RELEASE_CHAN_TCP_MAX_FRAME", default: ProtocolMessages.defaultMaximumRequestFrame
        ) { EnvironmentValue.parseByteCount($0).flatMap { (1 << 10...1 << 24).contains($0) ? $0 : nil } }
        configuration.reloadInterval = try EnvironmentValue.value(
            self.reloadInterval, "--reload-interval", "RELEASE_CHAN_RELOAD_INTERVAL", default: .seconds(30)
        ) { EnvironmentValue.parseDuration($0).flatMap { $0 >= .milliseconds(100) ? $0 : nil } }
        configuration.drainDelay = try EnvironmentValue.value(
            self.drainDelay, "--drain-delay", "RELEASE_CHAN_DRAIN_DELAY", default: .zero, parse: EnvironmentValue.parseDuration
        )
        configuration.shutdownTimeout = try EnvironmentValue.value(
            self.shutdownTimeout, "--shutdown-timeout", "RELEASE_CHAN_SHUTDOWN_TIMEOUT", default: .seconds(10), parse: EnvironmentValue.parseDuration
        )
        configuration.maximumDatabaseBytes = try EnvironmentValue.value(
            self.maxDbBytes, "--max-db-bytes", "RELEASE_CHAN_MAX_DB_BYTES", default: DatabaseFile.defaultMaximumBytes, parse: EnvironmentValue.parseByteCount
        )
        configuration.watchFile = try EnvironmentValue.value(self.watch, "--watch", "RELEASE_CHAN_WATCH", default: true, parse: EnvironmentValue.parseBool)
        configuration.accessLog = try EnvironmentValue.value(
            self.accessLog, "--access-log", "RELEASE_CHAN_ACCESS_LOG", default: true, parse: EnvironmentValue.parseBool
        )
        configuration.adminToken = try self.adminToken()
        let level = try EnvironmentValue.value(self.logLevel, "--log-level", "RELEASE_CHAN_LOG_LEVEL", default: Logger.Level.info) {
            Logger.Level(rawValue: $0)
        }

        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "release_chan")
        do {
            try await ReleaseChannelServer(configuration: configuration, logger: logger).run()
        } catch let error as ListenError {
            FileHandleOutput.standardError("release-chan: \(error)")
            throw ExitCode(4)
        } catch let error as DatabaseLoadError {
            FileHandleOutput.standardError("release-chan: cannot serve, the db cannot be loaded:")
            for issue in error.issues {
                FileHandleOutput.standardError("  \(DatabaseDiagnostics.line(path: configuration.databasePath, issue: issue))")
            }
            throw ExitCode(1)
        }
    }

    private static func port(_ text: String) -> Int? {
        Int(text).flatMap { (0...65535).contains($0) ? $0 : nil }
    }

    private func adminToken() throws -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let path = self.adminTokenFile ?? environment["RELEASE_CHAN_ADMIN_TOKEN_FILE"].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read the admin token file \(path)")
            }
            let token = String(decoding: contents, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw ValidationError("the admin token file \(path) is empty") }
            return token
        }
        guard let value = environment["RELEASE_CHAN_ADMIN_TOKEN"] else { return nil }
        // Set but empty would otherwise turn token auth off without a word, where an empty token file
        // is refused: a deployment whose secret did not arrive must fail, not open reload to loopback.
        let token = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw ValidationError("RELEASE_CHAN_ADMIN_TOKEN is set but empty; set it to the token, or unset it to allow reload from loopback only")
        }
        return token
    }
}
