import ArgumentParser
import ReleaseChannelStore
import ReleaseChannelModel

/// `release-chan db get CONTAINER [CHANNEL]`
struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print the image of a container on a channel, or all its channels as a table.",
        discussion: "Exit status: 0 found, 1 not found, unknown channel or invalid db file, 2 usage (including an invalid container name), 4 the file cannot be read."
    )

    @OptionGroup var file: DatabaseFileOptions
    @OptionGroup var limit: DatabaseLimitOptions

    @Argument(help: "Container name.")
    var container: String

    @Argument(help: "Channel; without it every channel of the container is listed.")
    var channel: String?

    @Flag(help: "Print JSON release objects instead of text.")
    var json = false

    func run() throws {
        do {
            try FieldRules.checkContainer(self.container)
        } catch {
            throw ValidationError(error.message)
        }
        let database = try DatabaseLoading.load(self.file.path, maximumBytes: self.limit.maximumBytes).database
        if let channel = self.channel {
            guard database.channelIndex(of: channel) != nil else {
                FileHandleOutput.standardError("unknown channel \"\(channel)\" (channels: \(database.channels.joined(separator: ", ")))")
                throw ExitCode(1)
            }
            guard let release = database.release(container: self.container, channel: channel) else {
                FileHandleOutput.standardError("container \"\(self.container)\" has no release on channel \"\(channel)\"")
                throw ExitCode(1)
            }
            FileHandleOutput.standardOutput(self.json ? Self.json(release) : release.image)
            return
        }
        let releases = database.releases.filter { $0.container == self.container }
        guard !releases.isEmpty else {
            FileHandleOutput.standardError("no releases for container \"\(self.container)\"")
            throw ExitCode(1)
        }
        if self.json {
            FileHandleOutput.standardOutput("[" + releases.map(Self.json).joined(separator: ",") + "]")
            return
        }
        let width = max(7, releases.map(\.channel.count).max() ?? 0)
        FileHandleOutput.standardOutput("CHANNEL".padding(width) + "  IMAGE")
        for release in releases {
            FileHandleOutput.standardOutput(release.channel.padding(width) + "  " + release.image)
        }
    }

    static func json(_ release: Release) -> String {
        var writer = JSONWriter()
        ReleaseObjectEncoder.append(release, to: &writer, indent: nil)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        self + String(repeating: " ", count: max(0, width - self.count))
    }
}
