import ArgumentParser
import ReleaseChannelStore

/// `release-chan db set`
struct SetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set the image of a container on a channel (the GitOps update).",
        discussion: """
            Validates every value with the server's rules, then writes the canonical db atomically under a \
            lock (PATH.lock), so concurrent runs serialize. The same values again change nothing. With the \
            image already stored, a digest or source left out is kept unless the other one names a new build \
            (db remove first to drop them). A release \
            whose stored run id from the same source repository is newer is refused (exit 3) unless --force.
            Exit status: 0 changed or unchanged, 1 invalid input, 2 usage, 3 stale or conflicting, 4 I/O.
            """
    )

    @OptionGroup var file: DatabaseFileOptions
    @OptionGroup var limit: DatabaseLimitOptions
    @OptionGroup var lock: DatabaseLockOptions
    @OptionGroup var values: ReleaseOptions

    @Option(help: "Timestamp of the update, RFC 3339 UTC; default now (only when something changes).")
    var updatedAt: String?

    @Flag(help: "Overwrite even when the stored release comes from a newer run.")
    var force = false

    func run() throws {
        let release = self.values.release(updatedAt: self.updatedAt)
        try UpdateReporting.run(self.file.path) { () throws(UpdateError) in
            try self.lock.updater(path: self.file.path, limit: self.limit).set(release, force: self.force)
        }
    }
}
