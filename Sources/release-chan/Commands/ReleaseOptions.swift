import ArgumentParser
import ReleaseChannelModel

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

    @Option(parsing: .unconditional, help: "GitHub Actions run id of the build; orders updates from one repository.")
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
