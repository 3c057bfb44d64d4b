import NIOCore

/// An immutable view of one revision of the db, from which every response is written without going
/// back to the db: releases packed and rendered per reply, the whole db and its gzip form, the few
/// gzip forms of large container bodies, the channels body.
///
/// Built once per reload by ``SnapshotBuilder`` and shared by all readers until the next swap, so a
/// request never waits for a reload and every response it builds comes from exactly one revision. It
/// keeps only bytes (each release packed, see ``PackedRelease``, and the canonical file), not the typed
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
    let containers: ContainerTable
    /// What the next reload can take from this snapshot, when it was built from a canonical file.
    let carryover: SnapshotCarryover?

    init(
        revision: String,
        loadedAt: Double,
        channels: [String],
        releaseCount: Int,
        wholeDatabase: ByteBuffer,
        channelsBody: EncodedBody,
        containers: ContainerTable,
        segments: DatabaseSegments? = nil,
        reusableGzip: SegmentedGzip?,
        carryover: SnapshotCarryover? = nil
    ) {
        self.revision = revision
        self.revisionNumber = UInt64(revision, radix: 16) ?? 0
        self.loadedAt = loadedAt
        self.channels = channels
        self.releaseCount = releaseCount
        self.wholeDatabase = WholeDatabaseBody(identity: wholeDatabase, segments: segments, reusing: reusableGzip)
        self.channelsBody = channelsBody
        self.containers = containers
        self.containerCount = containers.count
        self.carryover = carryover
    }

    /// ``loadedAt`` in whole milliseconds.
    public var loadedAtMilliseconds: UInt64 { UInt64(max(0, self.loadedAt * 1000)) }

    /// The served entry of a container, or nil when it has no release.
    public func container(_ name: String) -> ContainerEntry? {
        self.containers.location(of: name).map { self.containers.entry(at: $0) }
    }

    /// Position of a channel in the promotion order, or nil when the db does not declare it.
    public func channelIndex(_ channel: String) -> Int? {
        var channel = channel
        return channel.withUTF8 { self.containers.channelIndex(UnsafeRawBufferPointer($0)) }
    }

    /// The release of a container on a channel.
    public func release(container: String, channel: String) -> ReleaseEntry? {
        guard let channel = self.channelIndex(channel), let location = self.containers.location(of: container) else { return nil }
        return self.containers.release(at: location, channel: channel)
    }

    /// Calls `body` with the release of a container on a channel, found by the raw bytes of their names;
    /// false when there is none. Neither a `String` nor an allocation: this is the lookup of the HTTP
    /// fast path. Only valid names are stored, so a hit is a valid request by construction.
    public func withRelease(
        container: UnsafeRawBufferPointer,
        channel: UnsafeRawBufferPointer,
        _ body: (PackedRelease) -> Void
    ) -> Bool {
        guard let channel = self.containers.channelIndex(channel), let location = self.containers.location(of: container) else { return false }
        return self.containers.withRelease(at: location, channel: channel, body)
    }

    /// As ``withRelease(container:channel:_:)``, for the body of a protocol GET (docs/protocol.md §7.4):
    /// `str container, str channel` and nothing after them. False for any other bytes, without telling
    /// why: the caller decodes a miss to word its error.
    public func withRelease(forKey key: UnsafeRawBufferPointer, _ body: (PackedRelease) -> Void) -> Bool {
        guard key.count >= 4 else { return false }
        let containerLength = Int(UInt16(bigEndian: key.loadUnaligned(fromByteOffset: 0, as: UInt16.self)))
        guard key.count >= 4 + containerLength else { return false }
        let channelLength = Int(UInt16(bigEndian: key.loadUnaligned(fromByteOffset: 2 + containerLength, as: UInt16.self)))
        guard key.count == 4 + containerLength + channelLength else { return false }
        return self.withRelease(
            container: UnsafeRawBufferPointer(rebasing: key[2..<(2 + containerLength)]),
            channel: UnsafeRawBufferPointer(rebasing: key[(4 + containerLength)...]),
            body
        )
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
