#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import ReleaseChannelModel

/// Turns a release's compact JSON into its ``PackedRelease`` form, once per release on every reload.
enum ReleasePacker {
    /// Appends the packed form of `json` to `arena`; a JSON that is not in the shape of a compact
    /// release, or whose names are not `container` and `channel`, is appended verbatim.
    ///
    /// The reader consumes exactly the literals the renderer writes, in the same order, and copies the
    /// values between them: once its names are the table's, a packed release renders back to `json`
    /// byte for byte (a test renders every release of generated and edge-case dbs). So the build checks
    /// the names instead of rendering each release back to compare.
    /// - Parameters:
    ///   - container: The container name the JSON holds, as the snapshot's table stores it.
    ///   - channel: The channel name the JSON holds.
    /// - Returns: false when the release was kept verbatim (it then has no binary record).
    @discardableResult
    static func append(
        json: UnsafeRawBufferPointer,
        container: UnsafeRawBufferPointer,
        channel: UnsafeRawBufferPointer,
        to arena: inout ByteBuffer
    ) -> Bool {
        if json.count <= Int(UInt32.max) {
            // One reservation per release and plain stores into it: through `ByteBuffer`'s writers, each
            // field had cost a capacity check and Swift's dynamic exclusivity checks (a twentieth of a
            // reload's CPU).
            var packed = false
            arena.writeWithUnsafeMutableBytes(minimumWritableBytes: json.count + Self.packingRoom) { room in
                guard let base = room.baseAddress else { return 0 }
                var output = Output(base: base, capacity: room.count)
                packed = Self.pack(json, container: container, channel: channel, to: &output)
                return packed ? output.count : 0
            }
            if packed { return true }
        }
        arena.writeInteger(UInt32(truncatingIfNeeded: json.count), endianness: .host)
        arena.writeInteger(PackedRelease.Flag.verbatim)
        arena.writeBytes(json)
        return false
    }

    /// Room asked for beyond the JSON's length: a packed release is shorter than its JSON (its keys
    /// alone are longer than the lengths that replace them), and ``Output`` checks every write anyway.
    private static let packingRoom = 64

    /// Writes the packed fields of `json` to `output`; false when the JSON is not in the shape of a
    /// compact release (or, which no valid release does, its packed form outgrows the room).
    private static func pack(
        _ json: UnsafeRawBufferPointer,
        container: UnsafeRawBufferPointer,
        channel: UnsafeRawBufferPointer,
        to output: inout Output
    ) -> Bool {
        typealias Flag = PackedRelease.Flag
        var reader = Reader(bytes: json)
        // The names are not stored: the table has them, and renders them in their place.
        guard reader.skip("{\"container\":\""), let jsonContainer = reader.value(escapes: false), jsonContainer.hasSameBytes(as: container),
            reader.skip("\",\"channel\":\""), let jsonChannel = reader.value(escapes: false), jsonChannel.hasSameBytes(as: channel),
            reader.skip("\",\"image\":\""), let image = reader.value(escapes: false),
            image.count <= Int(UInt16.max)
        else { return false }
        let flagsIndex = 4
        guard output.write(UInt32(json.count)), output.write(UInt8(0)), output.write(UInt16(image.count)), output.write(image)
        else { return false }
        var flags: UInt8 = 0
        if reader.skip("\",\"digest\":\"sha256:") {
            guard let digest = reader.value(escapes: false), Self.appendHex(digest, bytes: PackedRelease.digestBytes, to: &output) else { return false }
            flags |= Flag.digest
        }
        guard reader.skip("\",\"updated_at\":\""), let updatedAt = reader.value(escapes: false), Self.appendShort(updatedAt, to: &output),
            reader.skip("\"")
        else { return false }
        if reader.skip(",\"source\":{") {
            flags |= Flag.source
            var first = true
            /// A field of `source`: true when it is absent, or present and packed (the commit id as
            /// bytes); false when it is not in the shape. The renderer writes the same table.
            func field(_ flag: UInt8, _ key: StaticString, hexBytes: Int = 0, quoted: Bool = true) -> Bool {
                guard reader.skipKey(key, first: &first) else { return true }
                guard let value = quoted ? reader.value(escapes: hexBytes == 0) : reader.digits(),
                    hexBytes > 0 ? Self.appendHex(value, bytes: hexBytes, to: &output) : Self.appendShort(value, to: &output),
                    !quoted || reader.skip("\"")
                else { return false }
                flags |= flag
                return true
            }
            guard field(Flag.repository, "\"repository\":\""), field(Flag.sha, "\"sha\":\"", hexBytes: PackedRelease.shaBytes),
                field(Flag.ref, "\"ref\":\""), field(Flag.runID, "\"run_id\":", quoted: false), field(Flag.actor, "\"actor\":\""),
                reader.skip("}")
            else { return false }
        }
        guard reader.skip("}"), reader.atEnd else { return false }
        output.base.storeBytes(of: flags, toByteOffset: flagsIndex, as: UInt8.self)
        return true
    }

    /// A value of at most 255 bytes, after its `u8` length.
    private static func appendShort(_ value: UnsafeRawBufferPointer, to output: inout Output) -> Bool {
        value.count <= Int(UInt8.max) && output.write(UInt8(value.count)) && output.write(value)
    }

    /// Lowercase hex digits as the `bytes` bytes they spell; false for anything else.
    private static func appendHex(_ digits: UnsafeRawBufferPointer, bytes: Int, to output: inout Output) -> Bool {
        guard digits.count == 2 * bytes, let input = digits.baseAddress, output.capacity - output.count >= bytes else { return false }
        // A table and one check at the end: a digest and a commit id are 104 digits per release, and a
        // branch per digit had been as much of a reload as the rest of the packing.
        var invalid: UInt8 = 0
        let out = output.base + output.count
        Self.hexValues.withUnsafeBufferPointer { values in
            for index in 0..<bytes {
                let high = values[Int(input.load(fromByteOffset: 2 * index, as: UInt8.self))]
                let low = values[Int(input.load(fromByteOffset: 2 * index + 1, as: UInt8.self))]
                invalid |= (high | low) & 0xF0
                out.storeBytes(of: high << 4 | low, toByteOffset: index, as: UInt8.self)
            }
        }
        output.count += bytes
        return invalid == 0
    }

    /// Room reserved in the arena, written with plain stores; every write checks what is left.
    private struct Output {
        let base: UnsafeMutableRawPointer
        let capacity: Int
        var count = 0

        /// In native byte order, as ``PackedRelease`` reads its lengths.
        mutating func write<Integer: FixedWidthInteger>(_ value: Integer) -> Bool {
            guard self.capacity - self.count >= MemoryLayout<Integer>.size else { return false }
            self.base.storeBytes(of: value, toByteOffset: self.count, as: Integer.self)
            self.count += MemoryLayout<Integer>.size
            return true
        }

        mutating func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
            guard self.capacity - self.count >= bytes.count else { return false }
            if let source = bytes.baseAddress { (self.base + self.count).copyMemory(from: source, byteCount: bytes.count) }
            self.count += bytes.count
            return true
        }
    }

    /// The value of each lowercase hex digit, 0xFF for every other byte.
    private static let hexValues: [UInt8] = (0...255).map { byte in
        switch UInt8(byte) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt8(byte) - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt8(byte) - UInt8(ascii: "a") + 10
        default: 0xFF
        }
    }

    /// Reads the fixed shape of a compact release: literals between values.
    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        var atEnd: Bool { self.position == self.bytes.count }

        /// Consumes `literal` if the bytes continue with it.
        mutating func skip(_ literal: StaticString) -> Bool {
            guard self.bytes.hasLiteral(literal, at: self.position) else { return false }
            self.position += literal.utf8CodeUnitCount
            return true
        }

        /// Consumes an object key, with the comma before it unless it is the object's first.
        mutating func skipKey(_ key: StaticString, first: inout Bool) -> Bool {
            let start = self.position
            guard first || self.skip(","), self.skip(key) else {
                self.position = start
                return false
            }
            first = false
            return true
        }

        /// Consumes a string value up to (not including) its closing quote and returns its bytes as
        /// they are in the JSON; nil at the end, or at an escape when `escapes` is false.
        mutating func value(escapes: Bool) -> UnsafeRawBufferPointer? {
            guard let base = self.bytes.baseAddress, self.position < self.bytes.count else { return nil }
            let start = self.position
            var end = start
            while true {
                guard end < self.bytes.count,
                    let quote = memchr(base + end, Int32(UInt8(ascii: "\"")), self.bytes.count - end)
                else { return nil }
                let quoteIndex = UnsafeRawPointer(quote) - base
                // The quote ends the value unless an odd run of backslashes escapes it.
                var backslashes = 0
                while quoteIndex - backslashes - 1 >= start, self.bytes[quoteIndex - backslashes - 1] == UInt8(ascii: "\\") { backslashes += 1 }
                if backslashes % 2 == 0 {
                    end = quoteIndex
                    break
                }
                end = quoteIndex + 1
            }
            if !escapes, memchr(base + start, Int32(UInt8(ascii: "\\")), end - start) != nil { return nil }
            self.position = end
            return UnsafeRawBufferPointer(rebasing: self.bytes[start..<end])
        }

        /// Consumes the digits of a positive JSON integer.
        mutating func digits() -> UnsafeRawBufferPointer? {
            let start = self.position
            while self.position < self.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self.bytes[self.position]) {
                self.position += 1
            }
            return self.position > start ? UnsafeRawBufferPointer(rebasing: self.bytes[start..<self.position]) : nil
        }
    }
}
