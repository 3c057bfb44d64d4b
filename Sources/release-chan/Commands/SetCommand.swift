import ArgumentParser
import ReleaseChannelModel
import ReleaseChannelStore

/// The values that describe a release update, shared by `db set` and `dispatch`.
struct ReleaseOptions: ParsableArguments {
    @Option(help: "Container name (lowercase DNS label).")
    var container: String

    @Option(help: "Channel, one of the db's channels.")
    var channel: String

    @Option(help: "Image reference, e.g. ghcr.io/acme/my-app:v1.4.2[@sha256:…].")
    var image: String

    @Option(help: "Image digest, sha256:<64 hex>.")
    var digest: String?

    @Option(help: "Source repository, OWNER/NAME.")
    var sourceRepository: String?

    @Option(help: "Source commit, 40 hex digits.")
    var sourceSha: String?

    @Option(help: "Source git ref, e.g. refs/heads/main.")
    var sourceRef: String?

    @Option(help: "GitHub Actions run id of the build; orders updates from one repository.")
    var runId: Int64?

    @Option(help: "Who started the build (GitHub login).")
    var actor: String?

    var source: ReleaseSource? {
        let source = ReleaseSource(repository: self.sourceRepository, sha: self.sourceSha, ref: self.sourceRef, runID: self.runId, actor: self.actor)
        return source.isEmpty ? nil : source
    }

    func release(updatedAt: String?) -> Release {
        Release(
            container: self.container,
            channel: self.channel,
            image: self.image,
            digest: self.digest,
            updatedAt: updatedAt ?? "",
            source: self.source
        )
    }
}

/// `release-chan db set`
struct SetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set the image of a container on a channel (the GitOps update).",
        discussion: """
            Validates every value with the server's rules, then writes the canonical db atomically under a \
            lock (PATH.lock), so concurrent runs serialize. The same values again change nothing. A release \
            whose stored run id from the same source repository is newer is refused (exit 3) unless --force.
            Exit status: 0 changed or unchanged, 1 invalid input, 2 usage, 3 stale or conflicting, 4 I/O.
            """
    )

    @OptionGroup var file: DatabaseFileOptions
    @OptionGroup var values: ReleaseOptions

    @Option(help: "Timestamp of the update, RFC 3339 UTC; default now (only when something changes).")
    var updatedAt: String?

    @Flag(help: "Overwrite even when the stored release comes from a newer run.")
    var force = false

    func run() throws {
        let release = self.values.release(updatedAt: self.updatedAt)
        try UpdateReporting.run(self.file.path) { () throws(UpdateError) in
            try DatabaseUpdater(path: self.file.path).set(release, force: self.force)
        }
    }
}

/// `release-chan db promote`
struct PromoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Copy a container's image, digest and source from one channel to another.",
        discussion: "Exit status: 0 changed or unchanged, 1 invalid input or nothing to promote, 2 usage, 4 I/O."
    )

    @OptionGroup var file: DatabaseFileOptions

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
            try DatabaseUpdater(path: self.file.path).promote(container: self.container, from: self.from, to: self.to, updatedAt: self.updatedAt)
        }
    }
}

/// `release-chan db remove`
struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove a container's release on one channel, or on every channel.",
        discussion: "Exit status: 0 removed or nothing to remove, 1 invalid input, 2 usage, 4 I/O."
    )

    @OptionGroup var file: DatabaseFileOptions

    @Option(help: "Container name.")
    var container: String

    @Option(help: "Channel; without it every channel of the container is removed.")
    var channel: String?

    func run() throws {
        try UpdateReporting.run(self.file.path) { () throws(UpdateError) in
            try DatabaseUpdater(path: self.file.path).remove(container: self.container, channel: self.channel)
        }
    }
}
