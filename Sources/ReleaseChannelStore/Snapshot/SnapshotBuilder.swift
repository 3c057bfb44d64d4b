import CompressNIO
import NIOCore
public import ReleaseChannelModel

/// Builds a ``Snapshot`` from a validated db: indexes, response bodies and binary records.
public enum SnapshotBuilder {
    /// - Parameters:
    ///   - database: A validated db.
    ///   - canonicalBytes: `CanonicalEncoder.encode(database)`, passed in because the loader already has it.
    ///   - loadedAt: Seconds since 1970 at which the snapshot starts serving.
    /// - Returns: A snapshot without the gzip form of the whole db; see ``Snapshot/compressWholeDatabase()``.
    public static func build(database: ReleaseDatabase, canonicalBytes: [UInt8], loadedAt: Double) -> Snapshot {
        Self.build(database: database, canonicalBytes: canonicalBytes, loadedAt: loadedAt, chunkSize: Self.chunkSize)
    }

    /// `chunkSize` is a parameter so tests can make many arenas out of a small db.
    static func build(database: ReleaseDatabase, canonicalBytes: [UInt8], loadedAt: Double, chunkSize: Int) -> Snapshot {
        let revision = DatabaseRevision.of(canonicalBytes: canonicalBytes)

        var channels = JSONWriter()
        channels.raw("{\"revision\":")
        channels.string(revision)
        channels.raw(",\"channels\":[")
        for (index, channel) in database.channels.enumerated() {
            if index > 0 { channels.raw(",") }
            channels.string(channel)
        }
        channels.raw("]}")
        let channelsBody = EncodedBody(identity: ByteBuffer(bytes: channels.bytes), gzip: nil)

        // Container bodies go into arenas of about `chunkSize` bytes, binary records into others, so 100k
        // containers cost a few dozen allocations, not 100k; each body and record is a slice of its arena.
        var bodies = ArenaChunks()
        var arena = JSONWriter(reservingCapacity: min(canonicalBytes.count, chunkSize + Self.chunkSlack))
        var records = ArenaChunks()
        var recordArena = ByteBuffer()
        recordArena.reserveCapacity(min(canonicalBytes.count / 2, chunkSize + Self.chunkSlack))
        var layouts: [ContainerLayout] = []
        var recordRanges: [(chunk: Int, range: Range<Int>)] = []
        recordRanges.reserveCapacity(database.releases.count)
        var channelIndexes: [String: Int] = [:]
        for (index, channel) in database.channels.enumerated() { channelIndexes[channel] = index }
        var releaseIndex = 0
        let releases = database.releases
        while releaseIndex < releases.count {
            let container = releases[releaseIndex].container
            if arena.bytes.count >= chunkSize {
                bodies.seal(ByteBuffer(bytes: arena.bytes))
                arena = JSONWriter(reservingCapacity: chunkSize + Self.chunkSlack)
            }
            let start = arena.bytes.count
            arena.raw("{\"revision\":")
            arena.string(revision)
            arena.raw(",\"container\":")
            arena.string(container)
            arena.raw(",\"releases\":[")
            var entries: [ReleaseLayout] = []
            while releaseIndex < releases.count, releases[releaseIndex].container == container {
                let release = releases[releaseIndex]
                if !entries.isEmpty { arena.raw(",") }
                let bodyStart = arena.bytes.count
                ReleaseObjectEncoder.append(release, to: &arena, indent: nil)
                if recordArena.writerIndex >= chunkSize {
                    records.seal(recordArena)
                    recordArena = ByteBuffer()
                    recordArena.reserveCapacity(chunkSize + Self.chunkSlack)
                }
                let recordStart = recordArena.writerIndex
                Self.writeRecord(release, to: &recordArena)
                recordRanges.append((records.count, recordStart..<recordArena.writerIndex))
                entries.append(
                    ReleaseLayout(
                        channelIndex: channelIndexes[release.channel] ?? 0,
                        body: bodyStart..<arena.bytes.count,
                        recordChunk: records.count,
                        record: recordStart..<recordArena.writerIndex
                    )
                )
                releaseIndex += 1
            }
            arena.raw("]}")
            layouts.append(ContainerLayout(name: container, chunk: bodies.count, body: start..<arena.bytes.count, releases: entries))
        }
        bodies.seal(ByteBuffer(bytes: arena.bytes))
        records.seal(recordArena)
        var containers: [String: ContainerEntry] = [:]
        containers.reserveCapacity(layouts.count)
        for layout in layouts {
            var slots = [ReleaseEntry?](repeating: nil, count: database.channels.count)
            let chunk = bodies.chunks[layout.chunk]
            for entry in layout.releases {
                slots[entry.channelIndex] = ReleaseEntry(body: chunk.slice(entry.body), record: records.chunks[entry.recordChunk].slice(entry.record))
            }
            let body = Self.encodedBody(chunk.slice(layout.body))
            containers[layout.name] = ContainerEntry(body: body, releases: slots)
        }
        return Snapshot(
            revision: revision,
            loadedAt: loadedAt,
            channels: database.channels,
            releaseCount: releases.count,
            wholeDatabase: ByteBuffer(bytes: canonicalBytes),
            channelsBody: channelsBody,
            containers: containers,
            records: ReleaseRecordIndex(chunks: records.chunks, ranges: recordRanges)
        )
    }

    /// The binary record of a release (docs/protocol.md §6.1).
    static func writeRecord(_ release: Release, to buffer: inout ByteBuffer) {
        for field in [release.container, release.channel, release.image, release.digest ?? "", release.updatedAt] {
            // The db limits every field far below the u16 length of a protocol string.
            buffer.writeInteger(UInt16(truncatingIfNeeded: field.utf8.count))
            buffer.writeString(field)
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
    static let chunkSize = 8 << 20
    /// Room for the item that crosses `chunkSize` (one container body or one record).
    static let chunkSlack = 1 << 20

    private struct ArenaChunks {
        var chunks: [ByteBuffer] = []
        var count: Int { self.chunks.count }
        mutating func seal(_ chunk: ByteBuffer) { self.chunks.append(chunk) }
    }

    private struct ReleaseLayout {
        var channelIndex: Int
        var body: Range<Int>
        var recordChunk: Int
        var record: Range<Int>
    }

    private struct ContainerLayout {
        var name: String
        var chunk: Int
        var body: Range<Int>
        var releases: [ReleaseLayout]
    }
}

extension ByteBuffer {
    /// A slice sharing this buffer's storage; the ranges come from the builder's own offsets.
    fileprivate func slice(_ range: Range<Int>) -> ByteBuffer {
        self.getSlice(at: self.readerIndex + range.lowerBound, length: range.count) ?? ByteBuffer()
    }
}
