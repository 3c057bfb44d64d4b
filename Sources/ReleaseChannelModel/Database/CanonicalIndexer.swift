#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a db file that must be byte for byte its canonical encoding, checking every value with the
/// format's rules over the bytes in place, and returns where its releases are.
///
/// The canonical encoding leaves nothing to choose (whitespace, key order, release order, which keys
/// are absent), so the document is a fixed sequence of literals and values: each step either matches
/// the next literal or reads a value up to its closing quote. Anything else (including a valid document
/// in another layout, a string with an escape sequence or a non-ASCII byte) returns nil and the caller
/// decodes the file with ``StreamingDatabaseDecoder`` or the tree decoder, which accept every valid
/// document. A test checks, on every one-byte edit of documents, that a document indexed here decodes
/// there to the same releases and is canonical.
///
/// Decoding a large db into `Release`s (a `String` per value, an array of structs) had been most of a
/// reload; a file served as it is needs only this index.
struct CanonicalIndexer {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    /// Releases whose bytes the previous index already checked (see ``IndexCarryover``).
    var carryover: IndexCarryover?
    /// Per release: its position in the carryover's previous index, or -1 when it was read here.
    var origins: [Int32] = []

    init(bytes: UnsafeBufferPointer<UInt8>, carryover: IndexCarryover? = nil) {
        self.bytes = bytes
        self.carryover = carryover
    }

    static func index(_ bytes: UnsafeBufferPointer<UInt8>) -> CanonicalDatabaseIndex? {
        var indexer = CanonicalIndexer(bytes: bytes)
        return indexer.document()
    }

    /// As ``index(_:)``, taking the releases `carryover` knows; `origins` says which ones.
    static func index(_ bytes: UnsafeBufferPointer<UInt8>, carryover: IndexCarryover) -> (index: CanonicalDatabaseIndex, origins: [Int32])? {
        var indexer = CanonicalIndexer(bytes: bytes, carryover: carryover)
        guard let index = indexer.document() else { return nil }
        // Under other channels nothing was taken over (and no origin noted).
        let origins = indexer.origins.count == index.count ? indexer.origins : [Int32](repeating: -1, count: index.count)
        return (index, origins)
    }

    mutating func document() -> CanonicalDatabaseIndex? {
        guard self.bytes.count <= Int(UInt32.max), self.literal("{\n  \"schema_version\": 1,\n  \"channels\": [") else { return nil }
        var channels: [String] = []
        repeat {
            guard self.literal("\""), let name = self.value(), FieldRules.isValidDNSLabel(self.slice(name)) else { return nil }
            let channel = String(decoding: self.slice(name), as: UTF8.self)
            guard !channels.contains(channel), channels.count < FieldRules.maximumChannels else { return nil }
            channels.append(channel)
        } while self.literal(", ")
        guard self.literal("],\n  \"releases\": [") else { return nil }
        if self.literal("]\n}\n") {
            return self.atEnd ? CanonicalDatabaseIndex(channels: channels, containerCount: 0, entries: []) : nil
        }
        guard self.literal("\n") else { return nil }
        let channelBytes = channels.map { Array($0.utf8) }
        // A release is checked against the channel list: one checked under other channels is read again.
        if self.carryover?.previous.channels != channels { self.carryover = nil }
        if self.carryover != nil { self.origins.reserveCapacity(self.carryover?.previous.count ?? 0) }
        var entries: [CanonicalDatabaseIndex.Entry] = []
        var containerCount = 0
        repeat {
            guard let entry = self.nextRelease(channels: channelBytes) else { return nil }
            if let previous = entries.last {
                // Strictly increasing (container bytewise, then channel position): sorted, no duplicates.
                let order = self.compare(previous, entry)
                guard order < 0 || (order == 0 && entry.channel > previous.channel) else { return nil }
                if order != 0 { containerCount += 1 }
            } else {
                containerCount = 1
            }
            entries.append(entry)
        } while self.literal(",\n")
        guard self.literal("\n  ]\n}\n"), self.atEnd else { return nil }
        return CanonicalDatabaseIndex(channels: channels, containerCount: containerCount, entries: entries)
    }

    /// The release at the current position: from the carryover when it knows these bytes, else read.
    mutating func nextRelease(channels: [[UInt8]]) -> CanonicalDatabaseIndex.Entry? {
        guard self.carryover != nil else { return self.release(channels: channels) }
        if let carried = self.carryover?.release(at: self.position) {
            self.position = Int(carried.entry.end)
            self.origins.append(Int32(truncatingIfNeeded: carried.previous))
            return carried.entry
        }
        self.origins.append(-1)
        return self.release(channels: channels)
    }

    mutating func release(channels: [[UInt8]]) -> CanonicalDatabaseIndex.Entry? {
        let start = self.position + 4
        guard self.literal("    {\n      \"container\": \""), let container = self.value(),
            FieldRules.isValidDNSLabel(self.slice(container)),
            self.literal(",\n      \"channel\": \""), let channel = self.value(),
            let position = self.position(of: channel, in: channels),
            self.literal(",\n      \"image\": \""), let image = self.value(),
            let imageDigest = ImageReference.digestRange(ofValid: self.slice(image))
        else { return nil }
        if self.literal(",\n      \"digest\": \"") {
            guard let digest = self.value(), FieldRules.isValidDigest(self.slice(digest)) else { return nil }
            if let imageDigest, !self.slice(digest).elementsEqual(self.slice(image)[imageDigest]) { return nil }
        }
        guard self.literal(",\n      \"updated_at\": \""), let updatedAt = self.value(), RFC3339Timestamp.isValid(self.slice(updatedAt)) else {
            return nil
        }
        if self.literal(",\n      \"source\": {") {
            guard self.source(), self.literal("\n      }") else { return nil }
        }
        guard self.literal("\n    }") else { return nil }
        return CanonicalDatabaseIndex.Entry(
            start: UInt32(start),
            end: UInt32(self.position),
            container: UInt32(container.lowerBound),
            containerLength: UInt8(container.count),
            channel: UInt8(position)
        )
    }

    /// The members of a non-empty `source`, each optional, in canonical order.
    mutating func source() -> Bool {
        var any = false
        if self.key("repository", after: any) {
            guard self.literal("\""), let value = self.value(), FieldRules.isValidRepository(self.slice(value)) else { return false }
            any = true
        }
        if self.key("sha", after: any) {
            guard self.literal("\""), let value = self.value(), FieldRules.isValidCommitSHA(self.slice(value)) else { return false }
            any = true
        }
        if self.key("ref", after: any) {
            guard self.literal("\""), let value = self.value(), FieldRules.isValidGitRef(self.slice(value)) else { return false }
            any = true
        }
        if self.key("run_id", after: any) {
            guard let runID = self.integer(), (1...FieldRules.maximumRunID).contains(runID) else { return false }
            any = true
        }
        if self.key("actor", after: any) {
            guard self.literal("\""), let value = self.value(), FieldRules.isValidActor(self.slice(value)) else { return false }
            any = true
        }
        // The canonical form leaves an empty source out.
        return any
    }

    /// Consumes a source member's name and colon, with the comma before it unless it is the first.
    mutating func key(_ name: StaticString, after earlier: Bool) -> Bool {
        let start = self.position
        guard !earlier || self.literal(","), self.literal("\n        \""), self.literal(name), self.literal("\": ") else {
            self.position = start
            return false
        }
        return true
    }

    // MARK: Tokens

    var atEnd: Bool { self.position == self.bytes.count }

    func slice(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: self.bytes[range])
    }

    /// Consumes `literal` if the bytes continue with it.
    mutating func literal(_ literal: StaticString) -> Bool {
        guard UnsafeRawBufferPointer(self.bytes).hasLiteral(literal, at: self.position) else { return false }
        self.position += literal.utf8CodeUnitCount
        return true
    }

    /// A string's bytes after its opening quote, up to its closing quote (consumed); nil at an escape
    /// sequence, a control character or a non-ASCII byte (left to the decoders, which handle them).
    mutating func value() -> Range<Int>? {
        let start = self.position
        while self.position < self.bytes.count {
            let byte = self.bytes[self.position]
            if byte == UInt8(ascii: "\"") {
                self.position += 1
                return start..<(self.position - 1)
            }
            guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\\") else { return nil }
            self.position += 1
        }
        return nil
    }

    /// A non-negative integer as the canonical form writes it: digits, no leading zero, fits `Int64`.
    mutating func integer() -> Int64? {
        JSONInteger.read(self.bytes, at: &self.position)
    }

    /// Position of the channel named by the bytes at `name` in `channels`.
    func position(of name: Range<Int>, in channels: [[UInt8]]) -> Int? {
        let bytes = self.slice(name)
        guard let base = bytes.baseAddress else { return nil }
        return channels.firstIndex { channel in
            channel.count == bytes.count && channel.withUnsafeBytes { channel in channel.baseAddress.map { memcmp($0, base, bytes.count) == 0 } ?? false }
        }
    }

    /// Bytewise order of two releases' container names.
    func compare(_ lhs: CanonicalDatabaseIndex.Entry, _ rhs: CanonicalDatabaseIndex.Entry) -> Int {
        let left = self.slice(Int(lhs.container)..<(Int(lhs.container) + Int(lhs.containerLength)))
        let right = self.slice(Int(rhs.container)..<(Int(rhs.container) + Int(rhs.containerLength)))
        let common = min(left.count, right.count)
        guard common > 0, let leftBase = left.baseAddress, let rightBase = right.baseAddress else { return left.count - right.count }
        let prefix = memcmp(leftBase, rightBase, common)
        return prefix != 0 ? Int(prefix) : left.count - right.count
    }
}
