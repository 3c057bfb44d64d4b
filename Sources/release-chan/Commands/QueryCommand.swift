import ArgumentParser
import Foundation
import ReleaseChannelClient

/// Where the binary protocol commands connect.
struct ProtocolEndpointOptions: ParsableArguments {
    @Option(name: .customLong("tcp"), help: "Server address HOST:PORT of the binary protocol; repeat for failover.")
    var endpoints: [String] = ["127.0.0.1:8090"]

    @Option(help: "Seconds to wait for a connection (retrying while the server starts) and for each reply.")
    var timeout: Double = 5

    func configuration() throws -> ReleaseChannelClientConfiguration {
        let endpoints = try self.endpoints.map { text in
            guard let endpoint = ReleaseChannelClientConfiguration.Endpoint(text) else {
                throw ValidationError("--tcp \"\(text)\" is not HOST:PORT")
            }
            return endpoint
        }
        guard self.timeout > 0 else { throw ValidationError("--timeout must be positive") }
        var configuration = ReleaseChannelClientConfiguration(endpoints: endpoints)
        configuration.connections = 1
        configuration.connectTimeout = .milliseconds(Int64(self.timeout * 1000))
        configuration.requestTimeout = .milliseconds(Int64(self.timeout * 1000))
        configuration.clientName = "release-chan-cli"
        return configuration
    }
}

/// `release-chan query CONTAINER [CHANNEL]`
struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Look a release up on a running server over the binary protocol.",
        discussion: "Exit status: 0 found, 1 not found or refused, 2 usage, 4 no server reachable."
    )

    @OptionGroup var connection: ProtocolEndpointOptions

    @Argument(help: "Container name.")
    var container: String

    @Argument(help: "Channel; without it every channel of the container is listed.")
    var channel: String?

    func run() async throws {
        do {
            try await ReleaseChannelClient.withClient(configuration: try self.connection.configuration()) { client in
                if let channel = self.channel {
                    guard let release = try await client.release(container: self.container, channel: channel) else {
                        FileHandleOutput.standardError("container \"\(self.container)\" has no release on channel \"\(channel)\"")
                        throw ExitCode(1)
                    }
                    FileHandleOutput.standardOutput(release.image)
                    return
                }
                let releases = try await client.releases(container: self.container)
                guard !releases.isEmpty else {
                    FileHandleOutput.standardError("no releases for container \"\(self.container)\"")
                    throw ExitCode(1)
                }
                let width = max(7, releases.map(\.channel.count).max() ?? 0)
                FileHandleOutput.standardOutput("CHANNEL" + String(repeating: " ", count: width - 7) + "  IMAGE")
                for release in releases {
                    FileHandleOutput.standardOutput(release.channel + String(repeating: " ", count: width - release.channel.count) + "  " + release.image)
                }
            }
        } catch let error as ReleaseChannelClientError {
            FileHandleOutput.standardError("release-chan query: \(error)")
            if case .server = error { throw ExitCode(1) }
            throw ExitCode(4)
        }
    }
}

/// `release-chan watch`
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print every new db revision a running server swaps in, as it happens.",
        discussion: "Runs until interrupted, or until --count changes were printed. Exit status: 0, or 4 when no server is reachable."
    )

    @OptionGroup var connection: ProtocolEndpointOptions

    @Option(help: "Stop after this many changes.")
    var count: Int?

    func run() async throws {
        let configuration = try self.connection.configuration()
        do {
            try await ReleaseChannelClient.withClient(configuration: configuration) { client in
                let changes = client.revisionChanges()
                let current = try await client.revision()
                FileHandleOutput.standardOutput("serving \(current.revision) (\(current.releases) releases, \(current.containers) containers)")
                var seen = 0
                for await change in changes {
                    let loaded = Date(timeIntervalSince1970: Double(change.loadedAtMilliseconds) / 1000).formatted(.iso8601)
                    FileHandleOutput.standardOutput("\(loaded) revision \(change.revision) (\(change.releases) releases, \(change.containers) containers)")
                    seen += 1
                    if let count = self.count, seen >= count { return }
                }
            }
        } catch let error as ReleaseChannelClientError {
            FileHandleOutput.standardError("release-chan watch: \(error)")
            throw ExitCode(4)
        }
    }
}
