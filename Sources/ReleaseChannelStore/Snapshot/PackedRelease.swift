#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import NIOCore

/// A release as a snapshot stores it: its values without keys, names or hex, rendered back into its
/// compact JSON (HTTP) or its binary record (docs/protocol.md §6.1) as a reply is written.
///
/// Keeping each release's compact JSON had made a snapshot 0.8× the db file's size, most of it bytes
/// every release repeats: the keys, the container and channel names (the table holds them once), and
/// the digest and commit id as hex. Packed, a release is about half of its JSON, and rendering it is
/// a few copies of literals and values, so the transports pay tens of nanoseconds per reply for it.
///
/// The compact JSON of a release is `{"container":"C","channel":"H","image":"I","digest":"D",
/// "updated_at":"T","source":{"repository":"R","sha":"S","ref":"F","run_id":N,"actor":"A"}}`, with
/// `digest`, `source` and each field of `source` optional (`ReleaseObjectEncoder` writes them in this
/// order and nothing else). Packed, in the snapshot's arena:
///
/// | Bytes | Field |
/// |---|---|
/// | 4 | length of the compact JSON (native byte order, so a reply's `Content-Length` needs no walk) |
/// | 1 | flags: digest, source, repository, sha, ref, run_id, actor, verbatim (bit 0 … 7) |
/// | 2 + n | image (`u16` length, native byte order) |
/// | 32 | digest, the 64 hex digits after `sha256:` as bytes, when present |
/// | 1 + n | updated_at |
/// | 1 + n | source.repository as it is in the JSON (escapes included), when present |
/// | 20 | source.sha, the 40 hex digits as bytes, when present |
/// | 1 + n | source.ref as it is in the JSON, when present |
/// | 1 + n | source.run_id's digits, when present |
/// | 1 + n | source.actor as it is in the JSON, when present |
///
/// JSON in any other shape is kept verbatim (flag bit 7, then the JSON): no release of a valid db is,
/// but the builder renders every packed release back and compares it with its JSON, so a shape this
/// type does not know costs memory, never a wrong byte. A verbatim release has no binary record.
///
/// A value of this type points into a snapshot's storage and is only valid inside the closure that
/// received it (``Snapshot/withRelease(container:channel:_:)``).
public struct PackedRelease {
    @usableFromInline let base: UnsafeRawPointer
    @usableFromInline let container: UnsafeRawBufferPointer
    @usableFromInline let channel: UnsafeRawBufferPointer

    init(base: UnsafeRawPointer, container: UnsafeRawBufferPointer, channel: UnsafeRawBufferPointer) {
        self.base = base
        self.container = container
        self.channel = channel
    }

    enum Flag {
        static let digest: UInt8 = 1 << 0
        static let source: UInt8 = 1 << 1
        static let repository: UInt8 = 1 << 2
        static let sha: UInt8 = 1 << 3
        static let ref: UInt8 = 1 << 4
        static let runID: UInt8 = 1 << 5
        static let actor: UInt8 = 1 << 6
        static let verbatim: UInt8 = 1 << 7
    }

    /// Bytes of the packed fields before the image: JSON length and flags.
    static let headerSize = 5
    static let digestBytes = 32
    static let shaBytes = 20
    /// `sha256:` and 64 hex digits.
    static let digestTextLength = 71

    var flags: UInt8 { self.base.load(fromByteOffset: 4, as: UInt8.self) }

    /// Bytes of the release's compact JSON: the body of `GET /v1/releases/{container}/{channel}`.
    public var jsonLength: Int { Int(self.base.loadUnaligned(as: UInt32.self)) }

    /// Whether the release has a binary record (every release of a valid db has one).
    public var hasRecord: Bool { self.flags & Flag.verbatim == 0 }

    /// Bytes of the binary record: five `str` fields (0 without a record).
    public var recordLength: Int {
        guard self.hasRecord else { return 0 }
        let fields = self.recordFields
        return 10 + self.container.count + self.channel.count + fields.imageLength + (fields.digest == nil ? 0 : Self.digestTextLength)
            + fields.updatedAtLength
    }

    /// Where the record's own fields are: image, digest and updated_at.
    private var recordFields: (image: UnsafeRawPointer, imageLength: Int, digest: UnsafeRawPointer?, updatedAt: UnsafeRawPointer, updatedAtLength: Int) {
        let imageLength = Int(self.base.loadUnaligned(fromByteOffset: Self.headerSize, as: UInt16.self))
        let image = self.base + Self.headerSize + 2
        var cursor = image + imageLength
        var digest: UnsafeRawPointer?
        if self.flags & Flag.digest != 0 {
            digest = cursor
            cursor += Self.digestBytes
        }
        let updatedAtLength = Int(cursor.load(as: UInt8.self))
        return (image, imageLength, digest, cursor + 1, updatedAtLength)
    }

    /// Appends the compact JSON (``jsonLength`` bytes).
    public func writeJSON(to buffer: inout ByteBuffer) {
        let length = self.jsonLength
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { out in
            guard let out = out.baseAddress else { return 0 }
            self.writeJSON(to: out)
            return length
        }
    }

    /// Writes the compact JSON at `out`, which has room for ``jsonLength`` bytes.
    func writeJSON(to out: UnsafeMutableRawPointer) {
        let flags = self.flags
        if flags & Flag.verbatim != 0 {
            out.copyMemory(from: self.base + Self.headerSize, byteCount: self.jsonLength)
            return
        }
        var writer = RawWriter(out)
        writer.literal("{\"container\":\"")
        writer.bytes(self.container)
        writer.literal("\",\"channel\":\"")
        writer.bytes(self.channel)
        writer.literal("\",\"image\":\"")
        var cursor = self.base + Self.headerSize
        cursor = writer.value(at: cursor, lengthBytes: 2)
        if flags & Flag.digest != 0 {
            writer.literal("\",\"digest\":\"sha256:")
            writer.hex(cursor, count: Self.digestBytes)
            cursor += Self.digestBytes
        }
        writer.literal("\",\"updated_at\":\"")
        cursor = writer.value(at: cursor, lengthBytes: 1)
        writer.literal("\"")
        if flags & Flag.source != 0 {
            writer.literal(",\"source\":{")
            var first = true
            /// A field of `source` when it is present: its key, then its value as packed (the commit id
            /// as hex), quoted unless it is the run id. The packer reads the same table.
            func field(_ flag: UInt8, _ key: StaticString, hexBytes: Int = 0, quoted: Bool = true) {
                guard flags & flag != 0 else { return }
                writer.key(key, first: &first)
                if hexBytes > 0 {
                    writer.hex(cursor, count: hexBytes)
                    cursor += hexBytes
                } else {
                    cursor = writer.value(at: cursor, lengthBytes: 1)
                }
                if quoted { writer.literal("\"") }
            }
            field(Flag.repository, "\"repository\":\"")
            field(Flag.sha, "\"sha\":\"", hexBytes: Self.shaBytes)
            field(Flag.ref, "\"ref\":\"")
            field(Flag.runID, "\"run_id\":", quoted: false)
            field(Flag.actor, "\"actor\":\"")
            writer.literal("}")
        }
        writer.literal("}")
    }

    /// Writes the binary record (``recordLength`` bytes) at `out`: `str container, str channel,
    /// str image, str digest, str updated_at`. Only for a release that ``hasRecord``.
    public func writeRecord(to out: UnsafeMutableRawPointer) {
        let fields = self.recordFields
        var writer = RawWriter(out)
        writer.string(self.container.baseAddress, count: self.container.count)
        writer.string(self.channel.baseAddress, count: self.channel.count)
        writer.string(fields.image, count: fields.imageLength)
        if let digest = fields.digest {
            writer.length(Self.digestTextLength)
            writer.literal("sha256:")
            writer.hex(digest, count: Self.digestBytes)
        } else {
            writer.length(0)
        }
        writer.string(fields.updatedAt, count: fields.updatedAtLength)
    }

    /// Appends the record to `buffer`; false, writing nothing, for a release without one.
    public func writeRecord(to buffer: inout ByteBuffer) -> Bool {
        guard self.hasRecord else { return false }
        let length = self.recordLength
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { out in
            guard let out = out.baseAddress else { return 0 }
            self.writeRecord(to: out)
            return length
        }
        return true
    }
}

/// Writes through a raw pointer into room the caller has sized: the renderers' one cursor.
private struct RawWriter {
    var cursor: UnsafeMutableRawPointer

    init(_ start: UnsafeMutableRawPointer) {
        self.cursor = start
    }

    mutating func literal(_ text: StaticString) {
        self.cursor.copyMemory(from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
        self.cursor += text.utf8CodeUnitCount
    }

    mutating func bytes(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        self.cursor.copyMemory(from: base, byteCount: bytes.count)
        self.cursor += bytes.count
    }

    /// A separator before every key but the first of an object.
    mutating func key(_ text: StaticString, first: inout Bool) {
        if !first {
            self.cursor.storeBytes(of: UInt8(ascii: ","), as: UInt8.self)
            self.cursor += 1
        }
        first = false
        self.literal(text)
    }

    /// Copies a packed value whose length is in `lengthBytes` (1 or 2) bytes before it; returns the
    /// packed bytes that follow it.
    mutating func value(at packed: UnsafeRawPointer, lengthBytes: Int) -> UnsafeRawPointer {
        let count = lengthBytes == 1 ? Int(packed.load(as: UInt8.self)) : Int(packed.loadUnaligned(as: UInt16.self))
        self.cursor.copyMemory(from: packed + lengthBytes, byteCount: count)
        self.cursor += count
        return packed + lengthBytes + count
    }

    /// Lowercase hex of `count` bytes, two digits per table entry.
    mutating func hex(_ bytes: UnsafeRawPointer, count: Int) {
        let cursor = self.cursor
        Self.hexDigits.withUnsafeBytes { digits in
            guard let digits = digits.baseAddress else { return }
            for index in 0..<count {
                let byte = Int(bytes.load(fromByteOffset: index, as: UInt8.self))
                (cursor + 2 * index).copyMemory(from: digits + 2 * byte, byteCount: 2)
            }
        }
        self.cursor += 2 * count
    }

    /// The two lowercase hex digits of each byte value.
    private static let hexDigits: [UInt8] = (0..<512).map { index in
        let byte = index / 2
        let nibble = UInt8(index % 2 == 0 ? byte >> 4 : byte & 0xF)
        return nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// A protocol `u16` length (big-endian).
    mutating func length(_ count: Int) {
        self.cursor.storeBytes(of: UInt16(truncatingIfNeeded: count).bigEndian, as: UInt16.self)
        self.cursor += 2
    }

    /// A protocol `str`: `u16` length, then the bytes.
    mutating func string(_ bytes: UnsafeRawPointer?, count: Int) {
        self.length(count)
        if let bytes, count > 0 {
            self.cursor.copyMemory(from: bytes, byteCount: count)
            self.cursor += count
        }
    }
}
