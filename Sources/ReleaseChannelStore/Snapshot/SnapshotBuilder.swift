import CompressNIO
import NIOCore
public import ReleaseChannelModel

/// Builds a ``Snapshot`` from a validated db: indexes and response bodies (the protocol's binary records
/// are written from the JSON bodies, see ``ReleaseRecordLayout``).
public enum SnapshotBuilder {
    /// - Parameters:
    ///   - database: A validated db.
    ///   - canonicalBytes: `CanonicalEncoder.encode(database)`, passed in because the loader already has it.
    ///   - canonicalReleaseSpans: Where each release is in `canonicalBytes` (`DecodedDatabase`), when
    ///     known: its compact JSON is then those bytes without whitespace, not a second encoding.
    ///   - revision: `DatabaseRevision.of(canonicalBytes:)` when the caller has it (one SHA-256 pass less).
    ///   - loadedAt: Seconds since 1970 at which the snapshot starts serving.
    ///   - previous: The snapshot this one replaces: the gzip form of the whole db copies its unchanged
    ///     segments. Only that form is kept, not the snapshot.
    /// - Returns: A snapshot without the gzip form of the whole db; see ``Snapshot/compressWholeDatabase()``.
    public static func build(
        database: ReleaseDatabase,
        canonicalBytes: [UInt8],
        canonicalReleaseSpans: [Range<Int>]? = nil,
        revision: String? = nil,
        loadedAt: Double,
        replacing previous: Snapshot? = nil
    ) -> Snapshot {
        Self.build(
            database: database,
            canonical: ByteBuffer(bytes: canonicalBytes),
            canonicalReleaseSpans: canonicalReleaseSpans,
            revision: revision,
            loadedAt: loadedAt,
            replacing: previous
        )
    }

    /// As ``build(database:canonicalBytes:canonicalReleaseSpans:revision:loadedAt:replacing:)``, with the
    /// canonical bytes in the buffer the snapshot then serves as the whole db (no copy: the reload read
    /// a canonical file into it).
    public static func build(
        database: ReleaseDatabase,
        canonical: ByteBuffer,
        canonicalReleaseSpans: [Range<Int>]? = nil,
        revision: String? = nil,
        loadedAt: Double,
        replacing previous: Snapshot? = nil
    ) -> Snapshot {
        Self.build(
            TypedReleases(database: database, canonical: canonical, spans: canonicalReleaseSpans),
            canonical: canonical,
            revision: revision,
            loadedAt: loadedAt,
            replacing: previous
        )
    }

    /// The snapshot of a file the reload decoded (``DatabaseFile/load(unlessFileDigestIs:)``).
    public static func build(_ contents: DatabaseFile.Contents, loadedAt: Double, replacing previous: Snapshot? = nil) -> Snapshot {
        Self.build(
            database: contents.database,
            canonical: contents.canonical,
            canonicalReleaseSpans: contents.canonicalReleaseSpans,
            revision: contents.revision,
            loadedAt: loadedAt,
            replacing: previous
        )
    }

    /// The snapshot of a canonical file the reload indexed (``DatabaseFile/load(unlessFileDigestIs:)``),
    /// from its index: no typed releases, the reload of such a file never decodes its values.
    public static func build(_ contents: DatabaseFile.IndexedContents, loadedAt: Double, replacing previous: Snapshot? = nil) -> Snapshot {
        Self.build(
            IndexedReleases(index: contents.index, canonical: contents.canonical),
            canonical: contents.canonical,
            revision: contents.revision,
            loadedAt: loadedAt,
            replacing: previous
        )
    }

    /// The one builder behind the public forms. `chunkSize` is a parameter so tests can make many arenas
    /// out of a small db.
    static func build(
        _ releases: some SnapshotReleases,
        canonical: ByteBuffer,
        revision: String? = nil,
        loadedAt: Double,
        replacing previous: Snapshot? = nil,
        chunkSize: Int = Self.chunkSize
    ) -> Snapshot {
        let revision = revision ?? DatabaseRevision.of(canonicalBytes: canonical.readableBytesView)

        var channels = JSONWriter()
        channels.raw("{\"revision\":")
        channels.string(revision)
        channels.raw(",\"channels\":[")
        for (index, channel) in releases.channels.enumerated() {
            if index > 0 { channels.raw(",") }
            channels.string(channel)
        }
        channels.raw("]}")
        let channelsBody = EncodedBody(identity: ByteBuffer(bytes: channels.bytes), gzip: nil)

        // Container bodies go into arenas of about `chunkSize` bytes, so 100k containers cost a few dozen
        // allocations, not 100k; each container's and release's body is a slice of its arena.
        var bodies = ArenaChunks()
        // The arenas are written in place (a JSON writer's array had been copied into each one).
        var arena = ByteBuffer()
        arena.reserveCapacity(min(canonical.readableBytes, chunkSize + Self.chunkSlack))
        // `{"revision":"…","container":"`, the same for every container.
        var header = JSONWriter(reservingCapacity: 64)
        header.raw("{\"revision\":")
        header.string(revision)
        header.raw(",\"container\":\"")
        // Per release encoding when there are no canonical bytes to compact; reused.
        var scratch = JSONWriter(reservingCapacity: 1024)
        let channelCount = releases.channels.count
        var containerBodies: [ArenaSpan] = []
        var names: [ArenaSpan] = []
        var releaseBodies: [ArenaSpan] = []
        var releaseLayouts: [UInt32] = []
        var gzipBodies: [Int: ByteBuffer] = [:]
        var indexed: [(chunk: Int, offset: Int, layout: ReleaseRecordLayout)] = []
        indexed.reserveCapacity(releases.count)
        var releaseIndex = 0
        while releaseIndex < releases.count {
            if arena.writerIndex >= chunkSize {
                bodies.seal(arena)
                arena = ByteBuffer()
                arena.reserveCapacity(chunkSize + Self.chunkSlack)
            }
            let row = containerBodies.count
            releaseBodies.append(contentsOf: repeatElement(.absent, count: channelCount))
            releaseLayouts.append(contentsOf: repeatElement(0, count: channelCount))
            let start = arena.writerIndex
            arena.writeBytes(header.bytes)
            // Container names are DNS labels: their bytes need no escaping.
            let nameStart = arena.writerIndex
            releases.withContainerName(of: releaseIndex) { arena.writeBytes($0) }
            names.append(ArenaSpan(chunk: bodies.count, range: nameStart..<arena.writerIndex))
            arena.writeStaticString("\",\"releases\":[")
            let first = releaseIndex
            while releaseIndex < releases.count, releaseIndex == first || releases.sameContainer(releaseIndex, first) {
                if releaseIndex > first { arena.writeInteger(UInt8(ascii: ",")) }
                let bodyStart = arena.writerIndex
                releases.appendCompactJSON(of: releaseIndex, to: &arena, scratch: &scratch)
                let slot = row * channelCount + releases.channel(of: releaseIndex)
                releaseBodies[slot] = ArenaSpan(chunk: bodies.count, range: bodyStart..<arena.writerIndex)
                if let layout = arena.withUnsafeReadableBytes({ ReleaseRecordLayout(json: UnsafeRawBufferPointer(rebasing: $0[bodyStart...])) }) {
                    releaseLayouts[slot] = layout.packed
                    indexed.append((bodies.count, bodyStart, layout))
                }
                releaseIndex += 1
            }
            arena.writeStaticString("]}")
            containerBodies.append(ArenaSpan(chunk: bodies.count, range: start..<arena.writerIndex))
            if arena.writerIndex - start >= EncodedBody.compressionThreshold, let body = arena.getSlice(at: start, length: arena.writerIndex - start) {
                gzipBodies[row] = Self.encodedBody(body).gzip
            }
        }
        bodies.seal(arena)
        let containers = ContainerTable(
            bodyChunks: bodies.chunks,
            channelCount: channelCount,
            bodies: containerBodies,
            names: names,
            releaseBodies: releaseBodies,
            releaseLayouts: releaseLayouts,
            gzipBodies: gzipBodies
        )
        return Snapshot(
            revision: revision,
            loadedAt: loadedAt,
            channels: releases.channels,
            releaseCount: releases.count,
            wholeDatabase: canonical,
            channelsBody: channelsBody,
            containers: containers,
            records: ReleaseRecordIndex(chunks: bodies.chunks, releases: indexed),
            reusableGzip: previous?.reusableGzip
        )
    }

    /// Appends JSON text without the whitespace bytes in it. Only for canonical text, such as a release of
    /// a canonical db: there every byte up to 0x20 is insignificant whitespace between tokens (string
    /// fields' rules exclude whitespace and canonical escaping writes every other control character as
    /// `\u00XX`), so dropping them gives the release's compact encoding (a test compares the two).
    ///
    /// Branch-free over bytes: the runs between whitespace are short (an indented key per line), and a
    /// `writeBytes` per run had been an eighth of a 100k-container reload.
    static func appendCompacted(_ text: UnsafeRawBufferPointer, to buffer: inout ByteBuffer) {
        guard let input = text.baseAddress, text.count > 0 else { return }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: text.count) { out in
            guard let output = out.baseAddress else { return 0 }
            var written = 0
            for index in 0..<text.count {
                let byte = input.load(fromByteOffset: index, as: UInt8.self)
                output.storeBytes(of: byte, toByteOffset: written, as: UInt8.self)
                written &+= byte > 0x20 ? 1 : 0
            }
            return written
        }
    }

    /// Gzips a body when it is large enough for that to pay off and the result is smaller.
    static func encodedBody(_ identity: ByteBuffer) -> EncodedBody {
        guard identity.readableBytes >= EncodedBody.compressionThreshold else {
            return EncodedBody(identity: identity, gzip: nil)
        }
        var input = identity
        guard let compressed = try? input.compress(with: .gzip()), compressed.readableBytes < identity.readableBytes else {
            return EncodedBody(identity: identity, gzip: nil)
        }
        return EncodedBody(identity: identity, gzip: compressed)
    }

    /// Arena size. A `ByteBuffer` slice must start within the first 16 MiB of its storage (NIO keeps the
    /// offset in 24 bits); a slice further in is a copy, which for a 100k-container db had made every
    /// body past the first 16 MiB an allocation of its own (hundreds of MB of RSS).
    ///
    /// A chunk is sealed at `chunkSize` and is then at most `chunkSize + chunkSlack` = 8 MiB: NIO rounds
    /// buffer capacities up to a power of two, and a buffer of this size can come from pages malloc
    /// already holds, so an 8.1 MiB chunk would have cost 16 MiB of resident memory.
    static let chunkSize = 7 << 20
    /// Room for the item that crosses `chunkSize` (one container body, at most 16 releases).
    static let chunkSlack = 1 << 20

    private struct ArenaChunks {
        var chunks: [ByteBuffer] = []
        var count: Int { self.chunks.count }
        mutating func seal(_ chunk: ByteBuffer) { self.chunks.append(chunk) }
    }
}
