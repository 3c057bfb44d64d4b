#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import NIOCore

/// Finds a release's binary record from the raw bytes of a protocol key, without decoding them.
///
/// A GET key (docs/protocol.md §7.2) is `str container, str channel`, which is exactly how a release
/// record starts, so a lookup hashes the request bytes and compares them with the first bytes of the
/// record: no `String`, no allocation, no name validation (only valid names are stored, so a hit is
/// valid by construction; callers validate on a miss to tell a bad request from an unknown key).
/// Open addressing with linear probing, at most half full.
public struct ReleaseRecordIndex: Sendable {
    /// All records, back to back.
    private let records: ByteBuffer
    /// `offset << 32 | length` of a record in ``records``; 0 marks an empty slot (no record is empty).
    private let slots: [UInt64]
    /// High bits of each slot's key hash, compared before the bytes.
    private let tags: [UInt32]
    private let mask: Int

    /// - Parameter records: `records` holds every release record; `ranges` locates each one (relative to
    ///   its reader index).
    init(records: ByteBuffer, ranges: [Range<Int>]) {
        var capacity = 16
        while capacity < ranges.count * 2 { capacity <<= 1 }
        var slots = [UInt64](repeating: 0, count: capacity)
        var tags = [UInt32](repeating: 0, count: capacity)
        let mask = capacity - 1
        records.withUnsafeReadableBytes { bytes in
            for range in ranges {
                guard let keyLength = Self.keyLength(of: UnsafeRawBufferPointer(rebasing: bytes[range])) else { continue }
                let hash = Self.hash(UnsafeRawBufferPointer(rebasing: bytes[range.lowerBound..<(range.lowerBound + keyLength)]))
                var slot = Int(truncatingIfNeeded: hash) & mask
                while slots[slot] != 0 { slot = (slot + 1) & mask }
                slots[slot] = UInt64(range.lowerBound) << 32 | UInt64(range.count)
                tags[slot] = UInt32(truncatingIfNeeded: hash >> 32)
            }
        }
        self.records = records
        self.slots = slots
        self.tags = tags
        self.mask = mask
    }

    /// Appends the record whose key is exactly `key` to `buffer`; false when there is none.
    public func writeRecord(forKey key: UnsafeRawBufferPointer, to buffer: inout ByteBuffer) -> Bool {
        guard let (offset, length) = self.find(key) else { return false }
        self.records.withUnsafeReadableBytes { bytes in
            _ = buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]))
        }
        return true
    }

    private func find(_ key: UnsafeRawBufferPointer) -> (offset: Int, length: Int)? {
        let hash = Self.hash(key)
        let tag = UInt32(truncatingIfNeeded: hash >> 32)
        var slot = Int(truncatingIfNeeded: hash) & self.mask
        return self.records.withUnsafeReadableBytes { bytes in
            while true {
                let packed = self.slots[slot]
                if packed == 0 { return nil }
                let offset = Int(packed >> 32)
                let length = Int(packed & 0xFFFF_FFFF)
                if self.tags[slot] == tag, length >= key.count {
                    let record = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
                    if Self.keyLength(of: record) == key.count, Self.equal(record, key) { return (offset, length) }
                }
                slot = (slot + 1) & self.mask
            }
        }
    }

    /// Whether `record` starts with the bytes of `key`.
    private static func equal(_ record: UnsafeRawBufferPointer, _ key: UnsafeRawBufferPointer) -> Bool {
        guard let recordBase = record.baseAddress, let keyBase = key.baseAddress else { return key.isEmpty }
        return memcmp(recordBase, keyBase, key.count) == 0
    }

    /// Bytes taken by the leading `str container, str channel` of a record; nil when it is cut short.
    static func keyLength(of record: UnsafeRawBufferPointer) -> Int? {
        guard record.count >= 2 else { return nil }
        let containerLength = Int(record[0]) << 8 | Int(record[1])
        let channelAt = 2 + containerLength
        guard record.count >= channelAt + 2 else { return nil }
        let channelLength = Int(record[channelAt]) << 8 | Int(record[channelAt + 1])
        let total = channelAt + 2 + channelLength
        return record.count >= total ? total : nil
    }

    /// FNV-1a, 64 bits: keys are short and come from the db, so a fast, unkeyed hash is enough (a client
    /// can only probe the table, not add to it).
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
