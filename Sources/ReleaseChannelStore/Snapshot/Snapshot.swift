public import NIOCore
public import ReleaseChannelModel

/// An immutable view of one revision of the db with every response body precomputed.
///
/// Built once per reload by ``SnapshotBuilder`` and shared by all readers until the next swap, so a
/// request never waits for a reload and every response it builds comes from exactly one revision.
public final class Snapshot: Sendable {
    /// First 16 hex digits of SHA-256 over the canonical db (see ``DatabaseRevision``).
    public let revision: String
    /// ``revision`` as the 8 bytes it spells, for binary transports.
    public let revisionNumber: UInt64
    /// When this snapshot started serving, seconds since 1970.
    public let loadedAt: Double
    public let database: ReleaseDatabase
    /// The canonical db file, the body of `GET /v1/releases`.
    public let wholeDatabase: EncodedBody
    /// `{"revision":…,"channels":[…]}`.
    public let channelsBody: EncodedBody
    public let containerCount: Int
    private let containers: [String: ContainerEntry]
    private let channelIndexes: [String: Int]

    init(
        revision: String,
        loadedAt: Double,
        database: ReleaseDatabase,
        wholeDatabase: EncodedBody,
        channelsBody: EncodedBody,
        containers: [String: ContainerEntry]
    ) {
        self.revision = revision
        self.revisionNumber = UInt64(revision, radix: 16) ?? 0
        self.loadedAt = loadedAt
        self.database = database
        self.wholeDatabase = wholeDatabase
        self.channelsBody = channelsBody
        self.containers = containers
        self.containerCount = containers.count
        var indexes: [String: Int] = [:]
        for (index, channel) in database.channels.enumerated() { indexes[channel] = index }
        self.channelIndexes = indexes
    }

    /// ``loadedAt`` in whole milliseconds.
    public var loadedAtMilliseconds: UInt64 { UInt64(max(0, self.loadedAt * 1000)) }

    /// Number of releases (container × channel pairs).
    public var releaseCount: Int { self.database.releases.count }

    /// The served entry of a container, or nil when it has no release.
    public func container(_ name: String) -> ContainerEntry? {
        self.containers[name]
    }

    /// Position of a channel in the promotion order, or nil when the db does not declare it.
    public func channelIndex(_ channel: String) -> Int? {
        self.channelIndexes[channel]
    }

    /// The release of a container on a channel.
    public func release(container: String, channel: String) -> ReleaseEntry? {
        guard let index = self.channelIndexes[channel], let entry = self.containers[container] else { return nil }
        return entry.releases[index]
    }
}
