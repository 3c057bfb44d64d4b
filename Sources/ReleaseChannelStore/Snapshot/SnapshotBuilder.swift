import CompressNIO
import NIOCore
public import ReleaseChannelModel

/// Builds a ``Snapshot`` from a validated db: its container table, each release packed from its compact
/// JSON (see ``PackedRelease``), and the gzip form of the few container bodies large enough for it.
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

    /// The snapshot of a file the reload decoded (``DatabaseFile/load(unlessFileDigestIs:carryingOver:)``).
    public static func build(_ contents: DatabaseFile.Contents, loadedAt: Double, replacing previous: Snapshot? = nil) -> Snapshot {
        Self.build(
            TypedReleases(database: contents.database, canonical: contents.canonical, spans: contents.canonicalReleaseSpans),
            canonical: contents.canonical,
            revision: contents.revision,
            loadedAt: loadedAt,
            replacing: previous,
            segments: contents.segments
        )
    }

    /// The snapshot of a canonical file the reload indexed (``DatabaseFile/load(unlessFileDigestIs:carryingOver:)``),
    /// from its index: no typed releases, the reload of such a file never decodes its values. When
    /// `previous` is the snapshot whose carryover the load took releases from, the blocks of the
    /// containers it took whole are copied from `previous`.
    public static func build(_ contents: DatabaseFile.IndexedContents, loadedAt: Double, replacing previous: Snapshot? = nil) -> Snapshot {
        Self.build(
            IndexedReleases(index: contents.index, canonical: contents.canonical),
            canonical: contents.canonical,
            revision: contents.revision,
            loadedAt: loadedAt,
            replacing: previous,
            segments: contents.segments,
            indexed: Indexed(index: contents.index, origins: contents.origins, carriedFrom: contents.carriedFrom)
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
        segments: DatabaseSegments? = nil,
        indexed: Indexed? = nil,
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

        // Containers go into arenas of about `chunkSize` bytes, so 100k containers cost a few dozen
        // allocations, not 100k: a container is one block there, its name, the offsets of its releases
        // and its releases packed (``ContainerTable``, ``PackedRelease``).
        var chunks: [ByteBuffer] = []
        var arena = ByteBuffer()
        arena.reserveCapacity(min(canonical.readableBytes, chunkSize + Self.chunkSlack))
        // One release's compact JSON, before it is packed; reused.
        var json = ByteBuffer()
        json.reserveCapacity(4096)
        // Per release encoding when there are no canonical bytes to compact; reused.
        var scratch = JSONWriter(reservingCapacity: 1024)
        let channelNames = releases.channels.map { Array($0.utf8) }
        let channelCount = channelNames.count
        var blocks: [ContainerTable.Location] = []
        blocks.reserveCapacity(releases.count / max(1, channelCount))
        var compressing: [ContainerTable.Location] = []
        // `{"revision":"…","container":"` (28 + revision), `","releases":[` (14) and `]}` (2), less the
        // comma counted before the first release: the length of a container body around its name and
        // releases, to tell which bodies to gzip.
        let bodyOverhead = 28 + revision.utf8.count + 14 + 2 - 1
        // Containers whose releases the index took from the previous snapshot's file have their block
        // copied from its arenas (see ``SnapshotCarryover``).
        var reuse: (carryover: SnapshotCarryover, origins: [Int32], table: ContainerTable)?
        if let indexed, let origins = indexed.origins, origins.count == releases.count, let source = indexed.carriedFrom,
            let previous, previous.carryover === source
        {
            reuse = (source, origins, previous.containers)
        }
        // The next reload's carryover: the file's index and where its containers' blocks are.
        let carrying = indexed != nil
        var carried: [SnapshotCarryover.Container] = []
        if carrying { carried.reserveCapacity(blocks.capacity) }
        var copied = 0
        var releaseIndex = 0
        while releaseIndex < releases.count {
            if arena.writerIndex >= chunkSize {
                chunks.append(arena)
                arena = ByteBuffer()
                arena.reserveCapacity(chunkSize + Self.chunkSlack)
            }
            let start = arena.writerIndex
            let first = releaseIndex
            var nameLength = 0
            var releasesLength = 0
            if let reuse, let old = Self.carriedContainer(at: first, of: releases, origins: reuse.origins, from: reuse.carryover) {
                reuse.table.withBlockBytes(at: old.container.location, length: Int(old.container.blockLength)) { block in
                    nameLength = Int(block.first ?? 0)
                    arena.writeBytes(block)
                }
                releasesLength = Int(old.container.releasesLength)
                releaseIndex += old.releaseCount
                copied += 1
            } else {
                // Container names are DNS labels (at most 63 bytes): their bytes need no escaping.
                releases.withContainerName(of: releaseIndex) { name in
                    nameLength = name.count
                    arena.writeInteger(UInt8(truncatingIfNeeded: name.count))
                    arena.writeBytes(name)
                }
                let offsets = arena.writerIndex
                arena.writeRepeatingByte(0, count: 4 * channelCount)
                while releaseIndex < releases.count, releaseIndex == first || releases.sameContainer(releaseIndex, first) {
                    json.clear()
                    releases.appendCompactJSON(of: releaseIndex, to: &json, scratch: &scratch)
                    releasesLength += json.readableBytes + 1
                    let channel = releases.channel(of: releaseIndex)
                    arena.setInteger(UInt32(arena.writerIndex - start), at: offsets + 4 * channel, endianness: .host)
                    releases.withContainerName(of: releaseIndex) { container in
                        channelNames[channel].withUnsafeBytes { channelName in
                            _ = json.withUnsafeReadableBytes { json in
                                ReleasePacker.append(json: json, container: container, channel: channelName, to: &arena)
                            }
                        }
                    }
                    releaseIndex += 1
                }
            }
            let location = ContainerTable.location(chunk: chunks.count, offset: start - arena.readerIndex)
            blocks.append(location)
            if bodyOverhead + nameLength + releasesLength >= EncodedBody.compressionThreshold { compressing.append(location) }
            if carrying {
                carried.append(
                    SnapshotCarryover.Container(
                        firstRelease: UInt32(truncatingIfNeeded: first),
                        blockLength: UInt32(truncatingIfNeeded: arena.writerIndex - start),
                        releasesLength: UInt32(truncatingIfNeeded: releasesLength),
                        location: location
                    )
                )
            }
        }
        chunks.append(arena)
        let containers = ContainerTable(
            chunks: chunks,
            channelNames: channelNames,
            revision: revision,
            blocks: blocks,
            compressing: compressing
        )
        return Snapshot(
            revision: revision,
            loadedAt: loadedAt,
            channels: releases.channels,
            releaseCount: releases.count,
            wholeDatabase: canonical,
            channelsBody: channelsBody,
            containers: containers,
            segments: segments,
            reusableGzip: previous?.reusableGzip,
            carryover: indexed.map { SnapshotCarryover(index: $0.index, containers: carried, copiedContainers: copied) }
        )
    }

    /// What the build of an indexed file gets besides its releases.
    struct Indexed {
        let index: CanonicalDatabaseIndex
        /// Per release, its position in `carriedFrom`'s index when the indexing took it from there.
        var origins: [Int32]? = nil
        var carriedFrom: SnapshotCarryover? = nil
    }

    /// When the releases from `first` on are, in order, all the releases of one container of the
    /// previous snapshot (and the next release is another container's), that container and their count.
    private static func carriedContainer(
        at first: Int,
        of releases: some SnapshotReleases,
        origins: [Int32],
        from carryover: SnapshotCarryover
    ) -> (container: SnapshotCarryover.Container, releaseCount: Int)? {
        let origin = Int(origins[first])
        guard origin >= 0, let old = carryover.container(startingAt: origin), first + old.releaseCount <= origins.count else { return nil }
        let count = old.releaseCount
        for offset in 1..<count where Int(origins[first + offset]) != origin + offset { return nil }
        // The same name and the same releases, but one more on a channel after them: not that block.
        if first + count < releases.count, releases.sameContainer(first + count, first) { return nil }
        return old
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
    /// Room for the item that crosses `chunkSize` (one container, at most 16 releases).
    static let chunkSlack = 1 << 20
}
