public import ReleaseChannelProtocol

/// A db revision served by the server: the one it serves now (``ReleaseChannelClient/revision()``) or a
/// new one (``ReleaseChannelClient/revisionChanges()``).
public struct RevisionChange: Sendable, Equatable {
    /// The revision: for ``ReleaseChannelClient/revision()`` the one served now, for a change the new one.
    public let revision: Revision
    /// When the server started serving it, milliseconds since 1970.
    public let loadedAtMilliseconds: UInt64
    /// How many releases the revision holds; `nil` when not known, which happens only for a change the
    /// client noticed on reconnecting (the WATCH reply names the revision, not its counts).
    public let releases: Int?
    /// How many containers the revision holds; `nil` exactly when ``releases`` is.
    public let containers: Int?
}
