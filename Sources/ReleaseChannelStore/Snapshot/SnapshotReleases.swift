import NIOCore
import ReleaseChannelModel

/// What ``SnapshotBuilder`` reads from a db: its releases in canonical order (grouped by container),
/// either typed (a decoded db) or as an index into canonical bytes (a file served as it is).
protocol SnapshotReleases {
    /// Channel names in promotion order.
    var channels: [String] { get }
    var count: Int { get }
    /// Whether releases `index` and `other` belong to the same container.
    func sameContainer(_ index: Int, _ other: Int) -> Bool
    /// Position of release `index`'s channel in ``channels``.
    func channel(of index: Int) -> Int
    /// Calls `body` with the UTF-8 of release `index`'s container name.
    func withContainerName(of index: Int, _ body: (UnsafeRawBufferPointer) -> Void)
    /// Appends release `index`'s compact JSON object; `scratch` is a writer to reuse.
    func appendCompactJSON(of index: Int, to buffer: inout ByteBuffer, scratch: inout JSONWriter)
}

/// The releases of a decoded db; with the canonical spans, a release's JSON is its canonical bytes
/// compacted instead of a second encoding.
struct TypedReleases: SnapshotReleases {
    let releases: [Release]
    let channels: [String]
    let canonical: ByteBuffer
    /// One per release, or nil.
    let spans: [Range<Int>]?
    private let channelIndexes: [String: Int]

    init(database: ReleaseDatabase, canonical: ByteBuffer, spans: [Range<Int>]?) {
        self.releases = database.releases
        self.channels = database.channels
        self.canonical = canonical
        // The spans are only usable if they are one per release.
        self.spans = spans.flatMap { $0.count == database.releases.count ? $0 : nil }
        var indexes: [String: Int] = [:]
        for (index, channel) in database.channels.enumerated() { indexes[channel] = index }
        self.channelIndexes = indexes
    }

    var count: Int { self.releases.count }

    func sameContainer(_ index: Int, _ other: Int) -> Bool {
        self.releases[index].container == self.releases[other].container
    }

    func channel(of index: Int) -> Int {
        self.channelIndexes[self.releases[index].channel] ?? 0
    }

    func withContainerName(of index: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
        var name = self.releases[index].container
        name.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }

    func appendCompactJSON(of index: Int, to buffer: inout ByteBuffer, scratch: inout JSONWriter) {
        if let spans = self.spans {
            self.canonical.withUnsafeReadableBytes { raw in
                SnapshotBuilder.appendCompacted(UnsafeRawBufferPointer(rebasing: raw[spans[index]]), to: &buffer)
            }
        } else {
            scratch.removeAll()
            ReleaseObjectEncoder.append(self.releases[index], to: &scratch, indent: nil)
            buffer.writeBytes(scratch.bytes)
        }
    }
}

/// The releases of a file whose bytes are its canonical encoding, read through their index.
struct IndexedReleases: SnapshotReleases {
    let index: CanonicalDatabaseIndex
    let canonical: ByteBuffer

    var channels: [String] { self.index.channels }
    var count: Int { self.index.count }

    func sameContainer(_ index: Int, _ other: Int) -> Bool {
        let left = self.index.containerName(of: index)
        let right = self.index.containerName(of: other)
        guard left.count == right.count else { return false }
        return self.canonical.withUnsafeReadableBytes { bytes in
            UnsafeRawBufferPointer(rebasing: bytes[left]).hasSameBytes(as: UnsafeRawBufferPointer(rebasing: bytes[right]))
        }
    }

    func channel(of index: Int) -> Int {
        self.index.channel(of: index)
    }

    func withContainerName(of index: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
        self.canonical.withUnsafeReadableBytes { body(UnsafeRawBufferPointer(rebasing: $0[self.index.containerName(of: index)])) }
    }

    func appendCompactJSON(of index: Int, to buffer: inout ByteBuffer, scratch: inout JSONWriter) {
        self.canonical.withUnsafeReadableBytes { raw in
            SnapshotBuilder.appendCompacted(UnsafeRawBufferPointer(rebasing: raw[self.index.span(of: index)]), to: &buffer)
        }
    }
}
