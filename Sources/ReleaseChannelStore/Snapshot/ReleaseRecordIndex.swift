public import NIOCore

/// Finds a release from the raw bytes of a protocol key, without decoding them, and writes its binary
/// record from its compact JSON (``ReleaseRecordLayout``).
///
/// A GET key (docs/protocol.md §7.4) is `str container, str channel`: a lookup hashes the request bytes
/// and compares the names inside them with the names in the release's JSON: no `String`, no allocation,
/// no name validation (only valid names are stored, so a hit is valid by construction; callers validate
/// on a miss to tell a bad request from an unknown key). Open addressing with linear probing, at most
/// half full.
public struct ReleaseRecordIndex: Sendable {
    /// The snapshot's JSON arenas (see `SnapshotBuilder.chunkSize`).
    @usableFromInline
    let chunks: [ByteBuffer]
    /// `chunk << 56 | offset << 32 | layout` of a release's compact JSON; 0 marks an empty slot (no
    /// layout is 0). Comparing the key length with the layout's first rejects most collisions without
    /// touching the JSON.
    @usableFromInline
    let slots: [UInt64]
    @usableFromInline
    let mask: Int

    /// - Parameter releases: Where each release's compact JSON is (its chunk and its offset there,
    ///   relative to the chunk's reader index) and its layout. A release past 16 MiB of its chunk or
    ///   beyond 255 chunks (the builder's 8 MiB arenas keep them far inside for any db under 2 GB) is not
    ///   indexed: lookups of it take the caller's checked path.
    init(chunks: [ByteBuffer], releases: [(chunk: Int, offset: Int, layout: ReleaseRecordLayout)]) {
        var capacity = 16
        while capacity < releases.count * 2 { capacity <<= 1 }
        var slots = [UInt64](repeating: 0, count: capacity)
        let mask = capacity - 1
        // `str container, str channel` of each release, to hash it as a request's key is hashed.
        var key = [UInt8](repeating: 0, count: 4 + 63 + 63)
        for (chunk, offset, layout) in releases where chunk <= 0xFF && offset <= 0xFF_FFFF {
            let hash = chunks[chunk].withUnsafeReadableBytes { json in
                key.withUnsafeMutableBytes { key in
                    let containerLength = layout.containerLength
                    let channelLength = layout.channelLength
                    key.storeBytes(of: UInt16(containerLength).bigEndian, toByteOffset: 0, as: UInt16.self)
                    UnsafeMutableRawBufferPointer(rebasing: key[2..<(2 + containerLength)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: json[(offset + ReleaseRecordLayout.containerOffset)...].prefix(containerLength)))
                    key.storeBytes(of: UInt16(channelLength).bigEndian, toByteOffset: 2 + containerLength, as: UInt16.self)
                    UnsafeMutableRawBufferPointer(rebasing: key[(4 + containerLength)...])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: json[(offset + layout.channelOffset)...].prefix(channelLength)))
                    return Self.hash(UnsafeRawBufferPointer(rebasing: key[..<layout.keyLength]))
                }
            }
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = UInt64(chunk) << 56 | UInt64(offset) << 32 | UInt64(layout.packed)
        }
        self.chunks = chunks
        self.slots = slots
        self.mask = mask
    }

    /// Calls `body` with the compact JSON and the layout of the release whose key is exactly `key`; nil
    /// when there is none. `json` points at the release's first byte; the layout says how far to read.
    @inlinable
    public func withRelease<Result>(
        forKey key: UnsafeRawBufferPointer,
        _ body: (_ json: UnsafeRawPointer, _ layout: ReleaseRecordLayout) -> Result
    ) -> Result? {
        guard key.count >= 4 else { return nil }
        let hash = Self.hash(key)
        return self.slots.withUnsafeBufferPointer { slots in
            var slot = Int(truncatingIfNeeded: hash) & self.mask
            while true {
                let packed = slots[slot]
                if packed == 0 { return nil }
                let layout = ReleaseRecordLayout(packed: UInt32(truncatingIfNeeded: packed))
                if layout.keyLength == key.count {
                    let chunk = Int(packed >> 56)
                    let offset = Int((packed >> 32) & 0xFF_FFFF)
                    let found: Result?? = self.chunks[chunk].withUnsafeReadableBytes { bytes in
                        guard let json = bytes.baseAddress.map({ $0 + offset }), layout.matches(key: key, json: json) else { return nil }
                        return .some(body(json, layout))
                    }
                    if let found { return found }
                }
                slot = (slot + 1) & self.mask
            }
        }
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
