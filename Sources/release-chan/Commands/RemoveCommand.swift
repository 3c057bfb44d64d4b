import ArgumentParser
import ReleaseChannelStore

/// `release-chan db remove`
struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove a container's release on one channel, or on every channel.",
        discussion: "Exit status: 0 removed or nothing to remove, 1 invalid input, 2 usage, 4 I/O."
    )

    @OptionGroup var file: DatabaseFileOptions
    @OptionGroup var limit: DatabaseLimitOptions
    @OptionGroup var lock: DatabaseLockOptions

    @Option(help: "Container name.")
    var container: String

    @Option(help: "Channel; without it every channel of the container is removed.")
    var channel: String?

    func run() throws {
        try UpdateReporting.run(self.file.path) { () throws(UpdateError) in
            try self.lock.updater(path: self.file.path, limit: self.limit).remove(container: self.container, channel: self.channel)
        }
    }
}
