/// Where a release came from: the build that published it. Every field is optional.
public struct ReleaseSource: Sendable, Hashable {
    /// GitHub `owner/name` of the source repository.
    public var repository: String?
    /// Full commit id the image was built from.
    public var sha: String?
    /// Git ref that was built, e.g. `refs/heads/main`.
    public var ref: String?
    /// GitHub Actions run id; orders updates from one repository (the stale guard relies on it).
    public var runID: Int64?
    /// Who started the build.
    public var actor: String?

    public init(repository: String? = nil, sha: String? = nil, ref: String? = nil, runID: Int64? = nil, actor: String? = nil) {
        self.repository = repository
        self.sha = sha
        self.ref = ref
        self.runID = runID
        self.actor = actor
    }

    /// True when no field is set; such a source is omitted from the canonical form.
    public var isEmpty: Bool {
        self.repository == nil && self.sha == nil && self.ref == nil && self.runID == nil && self.actor == nil
    }
}
