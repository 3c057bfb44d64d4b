import ArgumentParser
import Foundation
import Logging
import ReleaseChannelServer
import ReleaseChannelStore

/// `release-chan serve`: run the HTTP API on a db file.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the release database over HTTP, reloading it when the file changes.",
        discussion: """
            Every option can also be set through an environment variable (shown in brackets); a flag wins \
            over the variable. SIGHUP reloads the db; SIGTERM and SIGINT shut down gracefully.
            """
    )

    @Option(name: .customLong("db"), help: "Path of the db file. [RELEASE_CHAN_DB, default db/db.json]")
    var database: String?

    @Option(help: "Address to listen on. [RELEASE_CHAN_HOST, default 0.0.0.0]")
    var host: String?

    @Option(help: "HTTP port (0 picks a free one). [RELEASE_CHAN_HTTP_PORT, default 8089]")
    var httpPort: Int?

    @Option(help: "Binary protocol port, reserved for the TCP lookup listener. [RELEASE_CHAN_TCP_PORT, default 8090]")
    var tcpPort: Int?

    @Option(help: "Interval of the fallback file check, e.g. 30s, 500ms, 2m. [RELEASE_CHAN_RELOAD_INTERVAL, default 30s]")
    var reloadInterval: String?

    @Option(help: "Largest db file accepted, e.g. 268435456, 64MiB. [RELEASE_CHAN_MAX_DB_BYTES, default 256MiB]")
    var maxDbBytes: String?

    @Option(help: "File holding the bearer token required by POST /v1/reload. [RELEASE_CHAN_ADMIN_TOKEN_FILE; or the token itself in RELEASE_CHAN_ADMIN_TOKEN]")
    var adminTokenFile: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical. [RELEASE_CHAN_LOG_LEVEL, default info]")
    var logLevel: String?

    @Option(help: "Log one line per request: true or false. [RELEASE_CHAN_ACCESS_LOG, default true]")
    var accessLog: String?

    @Option(help: "Time /v1/ready reports 503 before the listener closes on shutdown. [RELEASE_CHAN_DRAIN_DELAY, default 0s]")
    var drainDelay: String?

    @Option(help: "Longest wait for in-flight requests on shutdown. [RELEASE_CHAN_SHUTDOWN_TIMEOUT, default 10s]")
    var shutdownTimeout: String?

    func run() async throws {
        var configuration = ServerConfiguration()
        configuration.databasePath = try EnvironmentValue.resolve(self.database, "RELEASE_CHAN_DB", default: "db/db.json") { $0 }
        configuration.host = try EnvironmentValue.resolve(self.host, "RELEASE_CHAN_HOST", default: "0.0.0.0") { $0 }
        configuration.httpPort = try EnvironmentValue.resolve(self.httpPort, "RELEASE_CHAN_HTTP_PORT", default: 8089) { Int($0) }
        configuration.tcpPort = try EnvironmentValue.resolve(self.tcpPort, "RELEASE_CHAN_TCP_PORT", default: 8090) { Int($0) }
        for (name, port) in [("--http-port", configuration.httpPort), ("--tcp-port", configuration.tcpPort)] where !(0...65535).contains(port) {
            throw ValidationError("\(name) \(port) is not a port number (0–65535)")
        }
        configuration.reloadInterval = try self.duration(self.reloadInterval, "--reload-interval", "RELEASE_CHAN_RELOAD_INTERVAL", default: .seconds(30))
        guard configuration.reloadInterval >= .milliseconds(100) else {
            throw ValidationError("--reload-interval must be at least 100ms")
        }
        configuration.drainDelay = try self.duration(self.drainDelay, "--drain-delay", "RELEASE_CHAN_DRAIN_DELAY", default: .zero)
        configuration.shutdownTimeout = try self.duration(self.shutdownTimeout, "--shutdown-timeout", "RELEASE_CHAN_SHUTDOWN_TIMEOUT", default: .seconds(10))
        configuration.maximumDatabaseBytes = try EnvironmentValue.resolve(
            try self.maxDbBytes.map { text in
                guard let value = EnvironmentValue.parseByteCount(text) else { throw ValidationError("--max-db-bytes \"\(text)\" is not a byte count") }
                return value
            },
            "RELEASE_CHAN_MAX_DB_BYTES",
            default: DatabaseFile.defaultMaximumBytes,
            parse: EnvironmentValue.parseByteCount
        )
        configuration.accessLog = try EnvironmentValue.resolve(
            try self.accessLog.map { text in
                guard let value = EnvironmentValue.parseBool(text) else { throw ValidationError("--access-log must be true or false") }
                return value
            },
            "RELEASE_CHAN_ACCESS_LOG",
            default: true,
            parse: EnvironmentValue.parseBool
        )
        configuration.adminToken = try self.adminToken()
        let level = try EnvironmentValue.resolve(
            try self.logLevel.map { text in
                guard let level = Logger.Level(rawValue: text) else { throw ValidationError("--log-level \"\(text)\" is not a log level") }
                return level
            },
            "RELEASE_CHAN_LOG_LEVEL",
            default: .info
        ) { Logger.Level(rawValue: $0) }

        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "release_chan")
        do {
            try await ReleaseChannelServer(configuration: configuration, logger: logger).run()
        } catch let error as DatabaseLoadError {
            FileHandleOutput.standardError("release-chan: cannot serve, the db is not valid:")
            for issue in error.issues {
                FileHandleOutput.standardError("  \(DatabaseDiagnostics.line(path: configuration.databasePath, issue: issue))")
            }
            throw ExitCode(1)
        }
    }

    private func duration(_ flag: String?, _ name: String, _ variable: String, default value: Duration) throws -> Duration {
        let parsed = try flag.map { text in
            guard let duration = EnvironmentValue.parseDuration(text) else {
                throw ValidationError("\(name) \"\(text)\" is not a duration (e.g. 30s, 500ms, 2m)")
            }
            return duration
        }
        return try EnvironmentValue.resolve(parsed, variable, default: value, parse: EnvironmentValue.parseDuration)
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
        return environment["RELEASE_CHAN_ADMIN_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
    }
}
