import CompressNIO
import NIOCore
public import ReleaseChannelModel

/// Builds a ``Snapshot`` from a validated db: indexes, response bodies and their gzip forms.
public enum SnapshotBuilder {
    /// - Parameters:
    ///   - database: A validated db.
    ///   - canonicalBytes: `CanonicalEncoder.encode(database)`, passed in because the loader already has it.
    ///   - loadedAt: Seconds since 1970 at which the snapshot starts serving.
    public static func build(database: ReleaseDatabase, canonicalBytes: [UInt8], loadedAt: Double) -> Snapshot {
        let revision = DatabaseRevision.of(canonicalBytes: canonicalBytes)
        // The whole db is always kept gzipped: the binary protocol's SNAPSHOT sends it compressed.
        let wholeDatabase = Self.encodedBody(ByteBuffer(bytes: canonicalBytes), always: true)

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

        // All container bodies go into one arena so 100k containers cost one allocation, not 100k;
        // each container and release body is a slice of it.
        var arena = JSONWriter(reservingCapacity: canonicalBytes.count)
        var layouts: [(container: String, range: Range<Int>, releases: [(channelIndex: Int, release: Release, range: Range<Int>)])] = []
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
            var entries: [(channelIndex: Int, release: Release, range: Range<Int>)] = []
            while releaseIndex < releases.count, releases[releaseIndex].container == container {
                let release = releases[releaseIndex]
                if !entries.isEmpty { arena.raw(",") }
                let releaseStart = arena.bytes.count
                ReleaseObjectEncoder.append(release, to: &arena, indent: nil)
                entries.append((channelIndexes[release.channel] ?? 0, release, releaseStart..<arena.bytes.count))
                releaseIndex += 1
            }
            arena.raw("]}")
            layouts.append((container, start..<arena.bytes.count, entries))
        }
        let arenaBuffer = ByteBuffer(bytes: arena.bytes)
        var containers: [String: ContainerEntry] = [:]
        containers.reserveCapacity(layouts.count)
        for layout in layouts {
            var slots = [ReleaseEntry?](repeating: nil, count: database.channels.count)
            for entry in layout.releases {
                slots[entry.channelIndex] = ReleaseEntry(release: entry.release, body: arenaBuffer.slice(entry.range))
            }
            let body = Self.encodedBody(arenaBuffer.slice(layout.range))
            containers[layout.container] = ContainerEntry(body: body, releases: slots)
        }
        return Snapshot(
            revision: revision,
            loadedAt: loadedAt,
            database: database,
            wholeDatabase: wholeDatabase,
            channelsBody: channelsBody,
            containers: containers
        )
    }

    /// Gzips a body when it is large enough for that to pay off and the result is smaller.
    static func encodedBody(_ identity: ByteBuffer, always: Bool = false) -> EncodedBody {
        guard always || identity.readableBytes >= EncodedBody.compressionThreshold else {
            return EncodedBody(identity: identity, gzip: nil)
        }
        var input = identity
        guard let compressed = try? input.compress(with: .gzip()), always || compressed.readableBytes < identity.readableBytes else {
            return EncodedBody(identity: identity, gzip: nil)
        }
        return EncodedBody(identity: identity, gzip: compressed)
    }
}

extension ByteBuffer {
    /// A slice sharing this buffer's storage; the ranges come from the builder's own offsets.
    fileprivate func slice(_ range: Range<Int>) -> ByteBuffer {
        self.getSlice(at: self.readerIndex + range.lowerBound, length: range.count) ?? ByteBuffer()
    }
}
