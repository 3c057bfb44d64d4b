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

        // All container bodies go into one arena and all binary records into another, so 100k containers
        // cost two allocations, not 100k; each body and record is a slice of its arena.
        var arena = JSONWriter(reservingCapacity: canonicalBytes.count)
        var records = ByteBuffer()
        records.reserveCapacity(canonicalBytes.count / 2)
        var layouts: [ContainerLayout] = []
        var recordRanges: [Range<Int>] = []
        recordRanges.reserveCapacity(database.releases.count)
        var channelIndexes: [String: Int] = [:]
        for (index, channel) in database.channels.enumerated() { channelIndexes[channel] = index }
        var releaseIndex = 0
        let releases = database.releases
        while releaseIndex < releases.count {
            let container = releases[releaseIndex].container
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
                let recordStart = records.writerIndex
                Self.writeRecord(release, to: &records)
                recordRanges.append(recordStart..<records.writerIndex)
                entries.append(
                    ReleaseLayout(
                        channelIndex: channelIndexes[release.channel] ?? 0,
                        body: bodyStart..<arena.bytes.count,
                        record: recordStart..<records.writerIndex
                    )
                )
                releaseIndex += 1
            }
            arena.raw("]}")
            layouts.append(ContainerLayout(name: container, body: start..<arena.bytes.count, releases: entries))
        }
        let arenaBuffer = ByteBuffer(bytes: arena.bytes)
        var containers: [String: ContainerEntry] = [:]
        containers.reserveCapacity(layouts.count)
        for layout in layouts {
            var slots = [ReleaseEntry?](repeating: nil, count: database.channels.count)
            for entry in layout.releases {
                slots[entry.channelIndex] = ReleaseEntry(body: arenaBuffer.slice(entry.body), record: records.slice(entry.record))
            }
            let body = Self.encodedBody(arenaBuffer.slice(layout.body))
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
            records: ReleaseRecordIndex(records: records, ranges: recordRanges)
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

    private struct ReleaseLayout {
        var channelIndex: Int
        var body: Range<Int>
        var record: Range<Int>
    }

    private struct ContainerLayout {
        var name: String
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
