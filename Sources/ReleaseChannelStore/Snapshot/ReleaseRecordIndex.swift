#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import NIOCore

/// Finds a release's binary record from the raw bytes of a protocol key, without decoding them.
///
/// A GET key (docs/protocol.md §7.4) is `str container, str channel`, which is exactly how a release
/// record starts, so a lookup hashes the request bytes and compares them with the first bytes of the
/// record: no `String`, no allocation, no name validation (only valid names are stored, so a hit is
/// valid by construction; callers validate on a miss to tell a bad request from an unknown key).
/// Open addressing with linear probing, at most half full.
public struct ReleaseRecordIndex: Sendable {
    /// The records, back to back, in chunks (see `SnapshotBuilder.chunkSize`).
    @usableFromInline
    let chunks: [ByteBuffer]
    /// `chunk << 56 | offset << 32 | record length << 16 | key length` of a record; 0 marks an empty
    /// slot (no record is empty). Comparing the key length first rejects most collisions without
    /// touching the record.
    @usableFromInline
    let slots: [UInt64]
    @usableFromInline
    let mask: Int

    /// - Parameter ranges: Where each record is: its chunk and its byte range there (relative to the
    ///   chunk's reader index). A record that does not fit the slot layout (64 KiB or more, past 16 MiB
    ///   of its chunk, or beyond 255 chunks; the builder and the db's field limits keep records far
    ///   inside) is not indexed: lookups of it take the caller's checked path.
    init(chunks: [ByteBuffer], ranges: [(chunk: Int, range: Range<Int>)]) {
        var capacity = 16
        while capacity < ranges.count * 2 { capacity <<= 1 }
        var slots = [UInt64](repeating: 0, count: capacity)
        let mask = capacity - 1
        for (chunk, range) in ranges where chunk <= 0xFF && range.lowerBound <= 0xFF_FFFF && range.count <= 0xFFFF {
            chunks[chunk].withUnsafeReadableBytes { bytes in
                guard let keyLength = Self.keyLength(of: UnsafeRawBufferPointer(rebasing: bytes[range])) else { return }
                let hash = Self.hash(UnsafeRawBufferPointer(rebasing: bytes[range.lowerBound..<(range.lowerBound + keyLength)]))
                var slot = Int(truncatingIfNeeded: hash) & mask
                while slots[slot] != 0 { slot = (slot + 1) & mask }
                slots[slot] = UInt64(chunk) << 56 | UInt64(range.lowerBound) << 32 | UInt64(range.count) << 16 | UInt64(keyLength)
            }
        }
        self.chunks = chunks
        self.slots = slots
        self.mask = mask
    }

    /// Calls `body` with the bytes of the record whose key is exactly `key`; nil when there is none.
    @inlinable
    public func withRecord<Result>(forKey key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Result) -> Result? {
        guard let (chunk, range) = self.find(key) else { return nil }
        return self.chunks[chunk].withUnsafeReadableBytes { body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    @usableFromInline
    func find(_ key: UnsafeRawBufferPointer) -> (chunk: Int, range: Range<Int>)? {
        guard key.count <= Int(UInt16.max), let keyBase = key.baseAddress else { return nil }
        var slot = Int(truncatingIfNeeded: Self.hash(key)) & self.mask
        return self.slots.withUnsafeBufferPointer { slots in
            while true {
                let packed = slots[slot]
                if packed == 0 { return nil }
                if Int(packed & 0xFFFF) == key.count {
                    let chunk = Int(packed >> 56)
                    let offset = Int((packed >> 32) & 0xFF_FFFF)
                    let equal = self.chunks[chunk].withUnsafeReadableBytes { bytes in
                        bytes.baseAddress.map { memcmp($0 + offset, keyBase, key.count) == 0 } ?? false
                    }
                    if equal { return (chunk, offset..<(offset + Int((packed >> 16) & 0xFFFF))) }
                }
                slot = (slot + 1) & self.mask
            }
        }
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

    /// A multiply-xorshift hash over 8-byte words: keys are short and come from the db, so a fast,
    /// unkeyed hash is enough (a client can only probe the table, not add to it). Byte-at-a-time FNV-1a
    /// showed in the profile of the protocol's GET.
    @usableFromInline
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

    @usableFromInline
    static func mix(_ value: UInt64) -> UInt64 {
        var value = value &* 0xBF58_476D_1CE4_E5B9
        value ^= value >> 31
        value = value &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 29)
    }
}
