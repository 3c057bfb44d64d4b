import NIOCore
import ReleaseChannelModel

/// A snapshot's containers: one block of bytes each in the arenas, found by name through an
/// open-addressing table.
///
/// A container's block is `u8` name length, the name, a `u32` offset per channel (from the block's
/// start to the channel's ``PackedRelease``, 0 for none), then its packed releases. A lookup touches the
/// table's slot and then one block, whose first bytes hold everything up to the release: with the name,
/// the offsets and the releases in separate arrays, each GET had been five cache misses, a third of the
/// server's CPU at pipeline depth 16.
///
/// A dictionary of entries would cost several small heap objects per container (key, entry array,
/// buffers), allocated while the parsed db is still in memory: scattered among its freed pages, they
/// kept those pages resident after the reload (the RSS of a large db was several times its size).
final class ContainerTable: Sendable {
    /// A block's place: its arena (bits 24…39) and its offset there (bits 0…23), as ``Block`` says.
    typealias Location = Int

    /// The arenas (see `SnapshotBuilder.chunkSize`).
    private let chunks: [ByteBuffer]
    /// Channel names in promotion order, as bytes.
    private let channelNames: [[UInt8]]
    /// `{"revision":"…","container":"`: how every container body starts.
    private let bodyPrefix: [UInt8]
    /// `tag << 40 | location`, 0 for an empty slot. The tag is 24 bits of the name's hash with the top
    /// bit set (so no slot in use is 0): a probe that meets another name rarely touches its block.
    private let slots: [UInt64]
    private let mask: Int
    /// The gzip form of the few container bodies large enough for it to pay, by location.
    private let gzipBodies: [Location: ByteBuffer]
    let count: Int

    /// - Parameters:
    ///   - blocks: Where each container's block is.
    ///   - compressing: Blocks whose body is large enough to be kept gzipped as well.
    init(chunks: [ByteBuffer], channelNames: [[UInt8]], revision: String, blocks: [Location], compressing: [Location]) {
        let prefix = Array("{\"revision\":\"\(revision)\",\"container\":\"".utf8)
        self.chunks = chunks
        self.channelNames = channelNames
        self.bodyPrefix = prefix
        self.count = blocks.count
        var capacity = 16
        while capacity < blocks.count * 2 { capacity <<= 1 }
        var slots = [UInt64](repeating: 0, count: capacity)
        let mask = capacity - 1
        for location in blocks {
            let hash = Self.withBlock(location, in: chunks) { Self.hash($0.name) }
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Self.tag(hash) << 40 | UInt64(location)
        }
        self.slots = slots
        self.mask = mask
        var gzipBodies: [Location: ByteBuffer] = [:]
        for location in compressing {
            gzipBodies[location] = SnapshotBuilder.encodedBody(Self.renderBody(location, chunks: chunks, channelNames: channelNames, prefix: prefix)).gzip
        }
        self.gzipBodies = gzipBodies
    }

    var channelCount: Int { self.channelNames.count }

    /// The location of the block of the container called `name`.
    func location(of name: String) -> Location? {
        var name = name
        return name.withUTF8 { self.location(of: UnsafeRawBufferPointer($0)) }
    }

    func location(of name: UnsafeRawBufferPointer) -> Location? {
        let hash = Self.hash(name)
        let tag = Self.tag(hash)
        var slot = Int(truncatingIfNeeded: hash) & self.mask
        return self.slots.withUnsafeBufferPointer { slots in
            while true {
                let entry = slots[slot]
                if entry == 0 { return nil }
                if entry >> 40 == tag {
                    let location = Location(truncatingIfNeeded: entry & 0xFF_FFFF_FFFF)
                    if Self.withBlock(location, in: self.chunks, { $0.name.hasSameBytes(as: name) }) { return location }
                }
                slot = (slot + 1) & self.mask
            }
        }
    }

    /// Position of a channel in the promotion order.
    func channelIndex(_ name: UnsafeRawBufferPointer) -> Int? {
        // A handful of channels: comparing their bytes beats hashing the name.
        self.channelNames.firstIndex { $0.count == name.count && $0.elementsEqual(name) }
    }

    /// Calls `body` with a container's release on a channel; false when it has none there.
    func withRelease(at location: Location, channel: Int, _ body: (PackedRelease) -> Void) -> Bool {
        Self.withRelease(at: location, channel: channel, chunks: self.chunks, channelNames: self.channelNames, body)
    }

    func entry(at location: Location) -> ContainerEntry {
        ContainerEntry(table: self, location: location)
    }

    func release(at location: Location, channel: Int) -> ReleaseEntry? {
        let present = Self.withBlock(location, in: self.chunks) { $0.offset(channel: channel) > 0 }
        return present ? ReleaseEntry(table: self, location: location, channel: channel) : nil
    }

    /// `{"revision":…,"container":…,"releases":[…]}`, with its gzip form when it is large enough.
    func body(at location: Location) -> EncodedBody {
        EncodedBody(
            identity: Self.renderBody(location, chunks: self.chunks, channelNames: self.channelNames, prefix: self.bodyPrefix),
            gzip: self.gzipBodies[location]
        )
    }

    /// Calls `body` with the `length` bytes of the block at `location` (a length the builder noted).
    func withBlockBytes<Result>(at location: Location, length: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        self.chunks[location >> 24].withUnsafeReadableBytes { bytes in
            body(UnsafeRawBufferPointer(rebasing: bytes[(location & 0xFF_FFFF)..<((location & 0xFF_FFFF) + length)]))
        }
    }

    // MARK: Blocks

    /// A container's block in place.
    struct Block {
        let base: UnsafeRawPointer

        var name: UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: self.base + 1, count: Int(self.base.load(as: UInt8.self)))
        }

        /// From the block's start to the channel's packed release; 0 for none.
        func offset(channel: Int) -> Int {
            Int(self.base.loadUnaligned(fromByteOffset: 1 + Int(self.base.load(as: UInt8.self)) + 4 * channel, as: UInt32.self))
        }

        /// Bytes of a block's name and offsets, before its first release.
        static func headerSize(nameLength: Int, channels: Int) -> Int { 1 + nameLength + 4 * channels }
    }

    /// Where a block starts: its arena and the offset there. A location holds 65,536 arenas and offsets
    /// below 16 MiB; the builder starts blocks below `SnapshotBuilder.chunkSize` (7 MiB), and even the
    /// 256 MiB default db limit needs a few dozen arenas.
    static func location(chunk: Int, offset: Int) -> Location {
        chunk << 24 | offset
    }

    private static func withBlock<Result>(_ location: Location, in chunks: [ByteBuffer], _ body: (Block) -> Result) -> Result {
        chunks[location >> 24].withUnsafeReadableBytes { bytes in
            // An arena is never empty: it holds at least the block this location was made for.
            body(Block(base: UnsafeRawPointer(bytes.baseAddress.unsafelyUnwrapped) + (location & 0xFF_FFFF)))
        }
    }

    private static func withRelease(
        at location: Location,
        channel: Int,
        chunks: [ByteBuffer],
        channelNames: [[UInt8]],
        _ body: (PackedRelease) -> Void
    ) -> Bool {
        Self.withBlock(location, in: chunks) { block in
            let offset = block.offset(channel: channel)
            guard offset > 0 else { return false }
            channelNames[channel].withUnsafeBytes { channel in
                body(PackedRelease(base: block.base + offset, container: block.name, channel: channel))
            }
            return true
        }
    }

    private static func renderBody(_ location: Location, chunks: [ByteBuffer], channelNames: [[UInt8]], prefix: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeBytes(prefix)
        _ = Self.withBlock(location, in: chunks) { buffer.writeBytes($0.name) }
        buffer.writeStaticString("\",\"releases\":[")
        var first = true
        for channel in 0..<channelNames.count {
            _ = Self.withRelease(at: location, channel: channel, chunks: chunks, channelNames: channelNames) { release in
                if !first { buffer.writeInteger(UInt8(ascii: ",")) }
                first = false
                release.writeJSON(to: &buffer)
            }
        }
        buffer.writeStaticString("]}")
        return buffer
    }

    // MARK: Hashing

    /// 24 bits of the hash other than those that pick the slot, with the top one set.
    private static func tag(_ hash: UInt64) -> UInt64 {
        hash >> 40 | 1 << 23
    }

    /// A multiply-xorshift hash over 8-byte words: names are short and come from the db, so a fast,
    /// unkeyed hash is enough (a client can only probe the table, not add to it). Byte-at-a-time FNV-1a
    /// showed in the profile of the protocol's GET.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var index = 0
        while index + 8 <= bytes.count {
            hash = Self.mix(hash ^ bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            index += 8
        }
        if index < bytes.count {
            var tail: UInt64 = 0
            for offset in index..<bytes.count { tail = tail << 8 | UInt64(bytes[offset]) }
            hash = Self.mix(hash ^ tail)
        }
        return hash
    }

    private static func mix(_ value: UInt64) -> UInt64 {
        var value = value &* 0xBF58_476D_1CE4_E5B9
        value ^= value >> 31
        value = value &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 29)
    }
}
