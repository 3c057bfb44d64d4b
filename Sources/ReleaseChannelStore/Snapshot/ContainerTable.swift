#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Where a container's name lies in the snapshot's arenas.
struct ArenaSpan: Sendable {
    var chunk: UInt32
    var offset: UInt32
    var length: UInt32

    init(chunk: Int, range: Range<Int>) {
        self.chunk = UInt32(chunk)
        self.offset = UInt32(range.lowerBound)
        self.length = UInt32(range.count)
    }
}

/// A snapshot's containers in a few flat arrays, found by name through an open-addressing table.
///
/// A dictionary of entries would cost several small heap objects per container (key, entry array,
/// buffers), allocated while the parsed db is still in memory: scattered among its freed pages, they
/// kept those pages resident after the reload (the RSS of a large db was several times its size).
/// Here a container is a row: its name and its releases' ``PackedRelease`` forms are consecutive
/// bytes of one arena, and its responses are rendered from them as they are sent.
final class ContainerTable: Sendable {
    private let rows: Rows
    /// The gzip form of the few container bodies large enough for it to pay.
    private let gzipBodies: [Int: ByteBuffer]
    /// Container index + 1; 0 marks an empty slot.
    private let slots: [UInt32]
    private let mask: Int

    /// - Parameter compressing: Rows whose body is large enough to be kept gzipped as well.
    init(chunks: [ByteBuffer], channelNames: [[UInt8]], revision: String, names: [ArenaSpan], releases: [UInt32], compressing: [Int]) {
        let rows = Rows(
            chunks: chunks,
            channelNames: channelNames,
            bodyPrefix: Array("{\"revision\":\"\(revision)\",\"container\":\"".utf8),
            names: names,
            releases: releases
        )
        self.rows = rows
        var capacity = 16
        while capacity < names.count * 2 { capacity <<= 1 }
        var slots = [UInt32](repeating: 0, count: capacity)
        let mask = capacity - 1
        for (index, name) in names.enumerated() {
            let hash = Self.withBytes(of: name, in: chunks) { Self.hash($0) }
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = UInt32(index + 1)
        }
        self.slots = slots
        self.mask = mask
        var gzipBodies: [Int: ByteBuffer] = [:]
        for row in compressing {
            gzipBodies[row] = SnapshotBuilder.encodedBody(rows.renderBody(at: row)).gzip
        }
        self.gzipBodies = gzipBodies
    }

    var count: Int { self.rows.names.count }
    var channelCount: Int { self.rows.channelNames.count }

    /// The row of the container called `name`.
    func index(of name: String) -> Int? {
        var name = name
        return name.withUTF8 { self.index(of: UnsafeRawBufferPointer($0)) }
    }

    func index(of name: UnsafeRawBufferPointer) -> Int? {
        var slot = Int(truncatingIfNeeded: Self.hash(name)) & self.mask
        while true {
            let entry = Int(self.slots[slot])
            if entry == 0 { return nil }
            let span = self.rows.names[entry - 1]
            if Int(span.length) == name.count, Self.withBytes(of: span, in: self.rows.chunks, { Self.equal($0, name) }) {
                return entry - 1
            }
            slot = (slot + 1) & self.mask
        }
    }

    /// Position of a channel in the promotion order.
    func channelIndex(_ name: UnsafeRawBufferPointer) -> Int? {
        // A handful of channels: comparing their bytes beats hashing the name.
        self.rows.channelNames.firstIndex { $0.count == name.count && $0.elementsEqual(name) }
    }

    /// Calls `body` with a container's release on a channel; false when it has none there.
    func withRelease(at row: Int, channel: Int, _ body: (PackedRelease) -> Void) -> Bool {
        self.rows.withRelease(at: row, channel: channel, body)
    }

    func entry(at row: Int) -> ContainerEntry {
        ContainerEntry(table: self, row: row)
    }

    func release(at row: Int, channel: Int) -> ReleaseEntry? {
        self.rows.releases[row * self.channelCount + channel] > 0 ? ReleaseEntry(table: self, row: row, channel: channel) : nil
    }

    /// `{"revision":…,"container":…,"releases":[…]}`, with its gzip form when it is large enough.
    func body(at row: Int) -> EncodedBody {
        EncodedBody(identity: self.rows.renderBody(at: row), gzip: self.gzipBodies[row])
    }

    /// The rows' storage, apart from the lookup table.
    private struct Rows: Sendable {
        /// The arenas (see `SnapshotBuilder.chunkSize`).
        let chunks: [ByteBuffer]
        /// Channel names in promotion order, as bytes.
        let channelNames: [[UInt8]]
        /// `{"revision":"…","container":"`: how every container body starts.
        let bodyPrefix: [UInt8]
        /// Per container: its name.
        let names: [ArenaSpan]
        /// Per container and channel (`row * channelCount + channel`): where the packed release is in
        /// the container's arena; 0 for none (the container's name precedes its releases, so none is
        /// at 0).
        let releases: [UInt32]

        func withRelease(at row: Int, channel: Int, _ body: (PackedRelease) -> Void) -> Bool {
            let offset = Int(self.releases[row * self.channelNames.count + channel])
            guard offset > 0 else { return false }
            let name = self.names[row]
            self.chunks[Int(name.chunk)].withUnsafeReadableBytes { bytes in
                guard let base = bytes.baseAddress else { return }
                self.channelNames[channel].withUnsafeBytes { channel in
                    let container = UnsafeRawBufferPointer(start: base + Int(name.offset), count: Int(name.length))
                    body(PackedRelease(base: base + offset, container: container, channel: channel))
                }
            }
            return true
        }

        func renderBody(at row: Int) -> ByteBuffer {
            var buffer = ByteBuffer()
            buffer.writeBytes(self.bodyPrefix)
            _ = ContainerTable.withBytes(of: self.names[row], in: self.chunks) { buffer.writeBytes($0) }
            buffer.writeStaticString("\",\"releases\":[")
            var first = true
            for channel in 0..<self.channelNames.count {
                _ = self.withRelease(at: row, channel: channel) { release in
                    if !first { buffer.writeInteger(UInt8(ascii: ",")) }
                    first = false
                    release.writeJSON(to: &buffer)
                }
            }
            buffer.writeStaticString("]}")
            return buffer
        }
    }

    fileprivate static func withBytes<Result>(of span: ArenaSpan, in chunks: [ByteBuffer], _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        chunks[Int(span.chunk)].withUnsafeReadableBytes { bytes in
            body(UnsafeRawBufferPointer(rebasing: bytes[Int(span.offset)..<Int(span.offset + span.length)]))
        }
    }

    private static func equal(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
        guard lhs.count == rhs.count else { return false }
        guard let left = lhs.baseAddress, let right = rhs.baseAddress else { return lhs.count == 0 }
        return memcmp(left, right, lhs.count) == 0
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
