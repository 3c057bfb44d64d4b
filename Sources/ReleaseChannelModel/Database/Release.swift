/// One row of the db: which image runs for a container on a channel.
public struct Release: Sendable, Hashable {
    public var container: String
    public var channel: String
    public var image: String
    /// `sha256:<64 hex>`; agrees with the image's own digest when both are present.
    public var digest: String?
    /// RFC 3339 UTC timestamp of the update.
    public var updatedAt: String
    public var source: ReleaseSource?

    public init(
        container: String,
        channel: String,
        image: String,
        digest: String? = nil,
        updatedAt: String,
        source: ReleaseSource? = nil
    ) {
        self.container = container
        self.channel = channel
        self.image = image
        self.digest = digest
        self.updatedAt = updatedAt
        self.source = source
    }
}
