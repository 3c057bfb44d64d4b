import ArgumentParser
import ReleaseChannelStore

/// `release-chan db promote`
struct PromoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Copy a container's image, digest and source from one channel to another.",
        discussion: "Exit status: 0 changed or unchanged, 1 invalid input or nothing to promote, 2 usage, 4 I/O."
    )

    @OptionGroup var file: DatabaseFileOptions
    @OptionGroup var limit: DatabaseLimitOptions
    @OptionGroup var lock: DatabaseLockOptions

    @Option(help: "Container name.")
    var container: String

    @Option(help: "Channel to copy from, e.g. stage.")
    var from: String

    @Option(help: "Channel to copy to, e.g. prod.")
    var to: String

    @Option(help: "Timestamp of the promotion, RFC 3339 UTC; default now.")
    var updatedAt: String?

    func run() throws {
        try UpdateReporting.run(self.file.path) { () throws(UpdateError) in
            try self.lock.updater(path: self.file.path, limit: self.limit).promote(container: self.container, from: self.from, to: self.to, updatedAt: self.updatedAt)
        }
    }
}
