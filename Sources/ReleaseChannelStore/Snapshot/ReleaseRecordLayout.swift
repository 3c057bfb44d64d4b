#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import NIOCore

/// Where the fields of a release's binary record (docs/protocol.md §6.1) lie in the release's compact
/// JSON, so the protocol writes its records from the bytes the HTTP API serves: a snapshot keeps one
/// encoding of each release, not two (the binary records had taken 0.45× the db file's size in memory).
///
/// The compact JSON of a release starts `{"container":"C","channel":"H","image":"I",` then, when there is
/// a digest, `"digest":"D",` and then `"updated_at":"T"`: `ReleaseObjectEncoder` writes the keys in this
/// order, and the rules of these five fields admit no byte that JSON escapes, so each value is its own
/// bytes there. A layout is the five lengths; ``init(json:)`` reads them and checks every byte between
/// the values, so a layout exists only for a body that has exactly this shape.
public struct ReleaseRecordLayout: Sendable, Equatable {
    /// container 6 bits | channel 6 | image 10 | has digest 1 | updated_at 5 (bits 27…0); never 0, so
    /// a packed layout can mark slots in use.
    @usableFromInline
    let packed: UInt32

    /// Bytes of a `digest` value: `sha256:` and 64 hex digits (the only form the db accepts).
    @usableFromInline
    static let digestLength = 71

    @usableFromInline
    init(packed: UInt32) {
        self.packed = packed
    }

    /// Reads the layout of a release's compact JSON; nil when the bytes are not in that shape or a field
    /// is longer than the layout can say (longer than the db's rules allow).
    public init?(json: UnsafeRawBufferPointer) {
        var reader = Reader(bytes: json)
        guard reader.skip("{\"container\":\""), let container = reader.value(), reader.skip("\",\"channel\":\""),
            let channel = reader.value(), reader.skip("\",\"image\":\""), let image = reader.value()
        else { return nil }
        var hasDigest = false
        if reader.skip("\",\"digest\":\"") {
            guard reader.value() == Self.digestLength else { return nil }
            hasDigest = true
        }
        guard reader.skip("\",\"updated_at\":\""), let updatedAt = reader.value(), reader.skip("\""),
            reader.next == UInt8(ascii: ",") || reader.next == UInt8(ascii: "}"),
            (1...63).contains(container), (1...63).contains(channel), (1...1023).contains(image), (1...31).contains(updatedAt)
        else { return nil }
        self.packed =
            UInt32(container) << 22 | UInt32(channel) << 16 | UInt32(image) << 6 | (hasDigest ? 1 << 5 : 0) | UInt32(updatedAt)
    }

    @inlinable var containerLength: Int { Int(self.packed >> 22) }
    @inlinable var channelLength: Int { Int((self.packed >> 16) & 0x3F) }
    @inlinable var imageLength: Int { Int((self.packed >> 6) & 0x3FF) }
    @inlinable var digestLength: Int { self.packed & (1 << 5) != 0 ? Self.digestLength : 0 }
    @inlinable var updatedAtLength: Int { Int(self.packed & 0x1F) }

    /// Offset of the container name in the JSON: after `{"container":"`.
    @inlinable static var containerOffset: Int { 14 }
    /// Offset of the channel name: after the container and `","channel":"`.
    @inlinable var channelOffset: Int { Self.containerOffset + self.containerLength + 13 }

    /// Bytes of the protocol key this release answers: `str container, str channel`.
    @inlinable public var keyLength: Int { 4 + self.containerLength + self.channelLength }

    /// Bytes of the binary record: five `str` fields.
    @inlinable public var recordLength: Int {
        10 + self.containerLength + self.channelLength + self.imageLength + self.digestLength + self.updatedAtLength
    }

    /// Whether `key` (the body of a GET) is exactly this release's `str container, str channel`.
    /// - Parameter json: The release's compact JSON, the one this layout was read from.
    @inlinable
    public func matches(key: UnsafeRawBufferPointer, json: UnsafeRawPointer) -> Bool {
        let container = self.containerLength
        let channel = self.channelLength
        guard key.count == 4 + container + channel, let base = key.baseAddress else { return false }
        return key.loadUnaligned(fromByteOffset: 0, as: UInt16.self) == UInt16(container).bigEndian
            && key.loadUnaligned(fromByteOffset: 2 + container, as: UInt16.self) == UInt16(channel).bigEndian
            && Self.equal(base + 2, json + Self.containerOffset, count: container)
            && Self.equal(base + 4 + container, json + self.channelOffset, count: channel)
    }

    /// Writes the binary record (``recordLength`` bytes) at `out`.
    /// - Parameter json: The release's compact JSON, the one this layout was read from.
    @inlinable
    public func writeRecord(from json: UnsafeRawPointer, to out: UnsafeMutableRawPointer) {
        var at = 0
        let imageOffset = self.channelOffset + self.channelLength + 11  // `","image":"`
        var updatedAtOffset = imageOffset + self.imageLength + 16  // `","updated_at":"`
        Self.writeString(json + Self.containerOffset, count: self.containerLength, to: out, at: &at)
        Self.writeString(json + self.channelOffset, count: self.channelLength, to: out, at: &at)
        Self.writeString(json + imageOffset, count: self.imageLength, to: out, at: &at)
        if self.digestLength > 0 {
            let digestOffset = imageOffset + self.imageLength + 12  // `","digest":"`
            Self.writeString(json + digestOffset, count: self.digestLength, to: out, at: &at)
            updatedAtOffset = digestOffset + self.digestLength + 16
        } else {
            Self.writeString(json, count: 0, to: out, at: &at)
        }
        Self.writeString(json + updatedAtOffset, count: self.updatedAtLength, to: out, at: &at)
    }

    /// Appends the binary record to `buffer`.
    /// - Parameter json: The release's compact JSON, the one this layout was read from.
    public func writeRecord(from json: UnsafeRawPointer, to buffer: inout ByteBuffer) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: self.recordLength) { out in
            guard let out = out.baseAddress else { return 0 }
            self.writeRecord(from: json, to: out)
            return self.recordLength
        }
    }

    @inlinable
    static func writeString(_ bytes: UnsafeRawPointer, count: Int, to out: UnsafeMutableRawPointer, at offset: inout Int) {
        out.storeBytes(of: UInt16(truncatingIfNeeded: count).bigEndian, toByteOffset: offset, as: UInt16.self)
        (out + offset + 2).copyMemory(from: bytes, byteCount: count)
        offset += 2 + count
    }

    @inlinable
    static func equal(_ lhs: UnsafeRawPointer, _ rhs: UnsafeRawPointer, count: Int) -> Bool {
        memcmp(lhs, rhs, count) == 0
    }

    /// Reads the fixed shape of a compact release: literals between values that end at the next `"`.
    /// Runs once per release on every reload, hence `memcmp` and `memchr` rather than a loop per byte.
    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        var next: UInt8? { self.position < self.bytes.count ? self.bytes[self.position] : nil }

        /// Consumes `literal` if the bytes continue with it.
        mutating func skip(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard self.position + count <= self.bytes.count, let base = self.bytes.baseAddress,
                memcmp(base + self.position, literal.utf8Start, count) == 0
            else { return false }
            self.position += count
            return true
        }

        /// Consumes a string value up to (not including) its closing quote and returns its length; nil
        /// at the end or when the value holds an escape, which no field of a record can.
        mutating func value() -> Int? {
            guard let base = self.bytes.baseAddress, self.position < self.bytes.count,
                let quote = memchr(base + self.position, Int32(UInt8(ascii: "\"")), self.bytes.count - self.position)
            else { return nil }
            let length = UnsafeRawPointer(quote) - (base + self.position)
            guard memchr(base + self.position, Int32(UInt8(ascii: "\\")), length) == nil else { return nil }
            self.position += length
            return length
        }
    }
}
