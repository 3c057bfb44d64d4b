public import ReleaseChannelProtocol

/// A new db revision served by the server.
public struct RevisionChange: Sendable, Equatable {
    public let revision: Revision
    /// When the server started serving it, milliseconds since 1970.
    public let loadedAtMilliseconds: UInt64
    public let releases: Int
    public let containers: Int
}
