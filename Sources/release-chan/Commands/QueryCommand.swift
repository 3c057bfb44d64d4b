import ArgumentParser
import ReleaseChannelClient

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
