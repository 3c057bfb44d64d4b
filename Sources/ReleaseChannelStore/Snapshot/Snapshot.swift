import NIOCore

/// An immutable view of one revision of the db with every response body precomputed.
///
/// Built once per reload by ``SnapshotBuilder`` and shared by all readers until the next swap, so a
/// request never waits for a reload and every response it builds comes from exactly one revision. It
/// keeps only encoded bytes (the JSON bodies, the binary records and the canonical file), not the typed
/// releases they came from.
public final class Snapshot: Sendable {
    /// First 16 hex digits of SHA-256 over the canonical db (see `DatabaseRevision`).
    public let revision: String
    /// ``revision`` as the 8 bytes it spells, for binary transports.
    public let revisionNumber: UInt64
    /// When this snapshot started serving, seconds since 1970.
    public let loadedAt: Double
    /// Channel names in promotion order.
    public let channels: [String]
    /// Number of releases (container × channel pairs).
    public let releaseCount: Int
    public let containerCount: Int
    /// The canonical db file, the body of `GET /v1/releases` and SNAPSHOT; held as gzip once
    /// ``compressWholeDatabase()`` has run.
    public let wholeDatabase: WholeDatabaseBody
    /// `{"revision":…,"channels":[…]}`.
    public let channelsBody: EncodedBody
    /// Binary release records by raw key, for the protocol's GET.
    public let records: ReleaseRecordIndex
    private let containers: ContainerTable
    /// ``channels`` as bytes, for lookups by raw name.
    private let channelNames: [[UInt8]]

    init(
        revision: String,
        loadedAt: Double,
        channels: [String],
        releaseCount: Int,
        wholeDatabase: ByteBuffer,
        channelsBody: EncodedBody,
        containers: ContainerTable,
        records: ReleaseRecordIndex,
        reusableGzip: SegmentedGzip?
    ) {
        self.revision = revision
        self.revisionNumber = UInt64(revision, radix: 16) ?? 0
        self.loadedAt = loadedAt
        self.channels = channels
        self.releaseCount = releaseCount
        self.wholeDatabase = WholeDatabaseBody(identity: wholeDatabase, reusing: reusableGzip)
        self.channelsBody = channelsBody
        self.containers = containers
        self.containerCount = containers.count
        self.records = records
        self.channelNames = channels.map { Array($0.utf8) }
    }

    /// ``loadedAt`` in whole milliseconds.
    public var loadedAtMilliseconds: UInt64 { UInt64(max(0, self.loadedAt * 1000)) }

    /// The served entry of a container, or nil when it has no release.
    public func container(_ name: String) -> ContainerEntry? {
        self.containers.index(of: name).map { self.containers.entry(at: $0) }
    }

    /// Position of a channel in the promotion order, or nil when the db does not declare it.
    public func channelIndex(_ channel: String) -> Int? {
        var channel = channel
        return channel.withUTF8 { self.channelIndex(UnsafeRawBufferPointer($0)) }
    }

    /// The release of a container on a channel.
    public func release(container: String, channel: String) -> ReleaseEntry? {
        guard let channel = self.channelIndex(channel), let row = self.containers.index(of: container) else { return nil }
        return self.containers.release(at: row, channel: channel)
    }

    /// Calls `body` with the compact JSON of a release (the body of `GET /v1/releases/{container}/{channel}`)
    /// found by the raw bytes of its names; nil when there is none. Neither a `String` nor an
    /// allocation: this is the HTTP fast path's lookup. Only valid names are stored, so a hit is a
    /// valid request by construction.
    public func withReleaseBody<Result>(
        container: UnsafeRawBufferPointer,
        channel: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer) -> Result
    ) -> Result? {
        guard let channel = self.channelIndex(channel), let row = self.containers.index(of: container) else { return nil }
        return self.containers.withReleaseBody(at: row, channel: channel, body)
    }

    private func channelIndex(_ name: UnsafeRawBufferPointer) -> Int? {
        // A handful of channels: comparing their bytes beats hashing the name.
        self.channelNames.firstIndex { $0.count == name.count && $0.elementsEqual(name) }
    }

    /// Gzips the whole db once and drops its plain bytes (see ``WholeDatabaseBody``). Slow for a large
    /// db, so the reload runs it after the swap, off the request path; only the segments that differ
    /// from the previous snapshot's form are compressed (see ``SegmentedGzip``).
    /// - Returns: The form, or nil when it was already there.
    @discardableResult
    public func compressWholeDatabase() throws(CompressionError) -> SegmentedGzip? {
        try self.wholeDatabase.compress()
    }

    /// What the next snapshot's compression can copy from.
    var reusableGzip: SegmentedGzip? { self.wholeDatabase.reusable }
}
