import ArgumentParser
import ReleaseChannelClient
import ReleaseChannelModel

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

    @Flag(help: "Print the protocol's release records as JSON (container, channel, image, digest, updated_at) instead of text.")
    var json = false

    func run() async throws {
        do {
            try await ReleaseChannelClient.withClient(configuration: try self.connection.configuration()) { client in
                if let channel = self.channel {
                    guard let release = try await client.release(container: self.container, channel: channel) else {
                        FileHandleOutput.standardError("container \"\(self.container)\" has no release on channel \"\(channel)\"")
                        throw ExitCode(1)
                    }
                    FileHandleOutput.standardOutput(self.json ? Self.json(release) : release.image)
                    return
                }
                let releases = try await client.releases(container: self.container)
                guard !releases.isEmpty else {
                    FileHandleOutput.standardError("no releases for container \"\(self.container)\"")
                    throw ExitCode(1)
                }
                if self.json {
                    FileHandleOutput.standardOutput("[" + releases.map(Self.json).joined(separator: ",") + "]")
                    return
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

    /// The record as one JSON object, `digest` null when it has none: the protocol's record carries no
    /// source (`db get --json` and the HTTP API do).
    static func json(_ release: ChannelRelease) -> String {
        var writer = JSONWriter()
        writer.raw("{\"container\":")
        writer.string(release.container)
        writer.raw(",\"channel\":")
        writer.string(release.channel)
        writer.raw(",\"image\":")
        writer.string(release.image)
        writer.raw(",\"digest\":")
        if let digest = release.digest { writer.string(digest) } else { writer.raw("null") }
        writer.raw(",\"updated_at\":")
        writer.string(release.updatedAt)
        writer.raw("}")
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
