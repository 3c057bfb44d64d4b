#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Where a body lies in the snapshot's arenas; a length of 0 means absent.
struct ArenaSpan: Sendable {
    var chunk: UInt32
    var offset: UInt32
    var length: UInt32

    static let absent = ArenaSpan(chunk: 0, offset: 0, length: 0)

    init(chunk: Int, range: Range<Int>) {
        self.chunk = UInt32(chunk)
        self.offset = UInt32(range.lowerBound)
        self.length = UInt32(range.count)
    }

    private init(chunk: UInt32, offset: UInt32, length: UInt32) {
        self.chunk = chunk
        self.offset = offset
        self.length = length
    }

    func slice(of chunks: [ByteBuffer]) -> ByteBuffer? {
        guard self.length > 0 else { return nil }
        let chunk = chunks[Int(self.chunk)]
        return chunk.getSlice(at: chunk.readerIndex + Int(self.offset), length: Int(self.length))
    }
}

/// A snapshot's containers in a few flat arrays, found by name through an open-addressing table.
///
/// A dictionary of entries would cost several small heap objects per container (key, entry array,
/// buffers), allocated while the parsed db is still in memory: scattered among its freed pages, they
/// kept those pages resident after the reload (the RSS of a large db was several times its size).
/// Here a container is a row in arrays of spans into the arenas, and its name is read from its body.
struct ContainerTable: Sendable {
    let bodyChunks: [ByteBuffer]
    let channelCount: Int
    /// Per container: its body; its name (inside its body).
    private let bodies: [ArenaSpan]
    private let names: [ArenaSpan]
    /// Per container and channel (`container * channelCount + channel`).
    private let releaseBodies: [ArenaSpan]
    /// `ReleaseRecordLayout.packed`, 0 for none.
    private let releaseLayouts: [UInt32]
    /// The gzip form of the few container bodies large enough for it to pay.
    private let gzipBodies: [Int: ByteBuffer]
    /// Container index + 1; 0 marks an empty slot.
    private let slots: [UInt32]
    private let mask: Int

    init(
        bodyChunks: [ByteBuffer],
        channelCount: Int,
        bodies: [ArenaSpan],
        names: [ArenaSpan],
        releaseBodies: [ArenaSpan],
        releaseLayouts: [UInt32],
        gzipBodies: [Int: ByteBuffer]
    ) {
        self.bodyChunks = bodyChunks
        self.channelCount = channelCount
        self.bodies = bodies
        self.names = names
        self.releaseBodies = releaseBodies
        self.releaseLayouts = releaseLayouts
        self.gzipBodies = gzipBodies
        var capacity = 16
        while capacity < names.count * 2 { capacity <<= 1 }
        var slots = [UInt32](repeating: 0, count: capacity)
        let mask = capacity - 1
        for (index, name) in names.enumerated() {
            let hash = Self.withBytes(of: name, in: bodyChunks) { ReleaseRecordIndex.hash($0) }
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = UInt32(index + 1)
        }
        self.slots = slots
        self.mask = mask
    }

    var count: Int { self.bodies.count }

    /// The row of the container called `name`.
    func index(of name: String) -> Int? {
        var name = name
        return name.withUTF8 { self.index(of: UnsafeRawBufferPointer($0)) }
    }

    func index(of name: UnsafeRawBufferPointer) -> Int? {
        var slot = Int(truncatingIfNeeded: ReleaseRecordIndex.hash(name)) & self.mask
        while true {
            let entry = Int(self.slots[slot])
            if entry == 0 { return nil }
            let span = self.names[entry - 1]
            if Int(span.length) == name.count, Self.withBytes(of: span, in: self.bodyChunks, { Self.equal($0, name) }) {
                return entry - 1
            }
            slot = (slot + 1) & self.mask
        }
    }

    func entry(at index: Int) -> ContainerEntry {
        let identity = self.bodies[index].slice(of: self.bodyChunks) ?? ByteBuffer()
        let releases = (0..<self.channelCount).map { self.release(at: index, channel: $0) }
        return ContainerEntry(body: EncodedBody(identity: identity, gzip: self.gzipBodies[index]), releases: releases)
    }

    func release(at index: Int, channel: Int) -> ReleaseEntry? {
        let slot = index * self.channelCount + channel
        guard let body = self.releaseBodies[slot].slice(of: self.bodyChunks) else { return nil }
        let layout = self.releaseLayouts[slot]
        return ReleaseEntry(body: body, recordLayout: layout == 0 ? nil : ReleaseRecordLayout(packed: layout))
    }

    /// Calls `body` with the compact JSON of a release in place; nil when the container has none on
    /// that channel.
    func withReleaseBody<Result>(at index: Int, channel: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result? {
        let span = self.releaseBodies[index * self.channelCount + channel]
        guard span.length > 0 else { return nil }
        return Self.withBytes(of: span, in: self.bodyChunks, body)
    }

    private static func withBytes<Result>(of span: ArenaSpan, in chunks: [ByteBuffer], _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        chunks[Int(span.chunk)].withUnsafeReadableBytes { bytes in
            body(UnsafeRawBufferPointer(rebasing: bytes[Int(span.offset)..<Int(span.offset + span.length)]))
        }
    }

    private static func equal(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
        guard lhs.count == rhs.count else { return false }
        guard let left = lhs.baseAddress, let right = rhs.baseAddress else { return lhs.count == 0 }
        return memcmp(left, right, lhs.count) == 0
    }
}
