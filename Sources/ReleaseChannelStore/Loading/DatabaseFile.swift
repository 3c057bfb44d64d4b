import Foundation
#if canImport(Glibc)
import Glibc
#endif
public import NIOCore
public import ReleaseChannelModel

/// Reads and decodes the db file, enforcing the size limit before reading the whole file.
public struct DatabaseFile: Sendable {
    /// Default for `--max-db-bytes`: 256 MiB, room for the 300k-release benchmark db (≈ 94 MB).
    public static let defaultMaximumBytes = 256 * 1024 * 1024

    /// A decoded db with the bytes it was read from and its canonical encoding.
    public struct Contents: Sendable {
        public let database: ReleaseDatabase
        /// `CanonicalEncoder.encode(database)`: the file's own bytes when they already were canonical.
        public let canonical: ByteBuffer
        /// ``canonical`` as an array (a copy).
        public var canonicalBytes: [UInt8] { Array(self.canonical.readableBytesView) }
        /// Where each release is in ``canonical`` when those are the file's own bytes (see
        /// `DecodedDatabase`); nil when they were encoded.
        public let canonicalReleaseSpans: [Range<Int>]?
        public let revision: String
        /// ``DatabaseRevision/fileDigest(of:)`` of the bytes read.
        public let fileDigest: String
        /// ``canonical`` cut into segments, when the load did that (it does for a canonical file).
        let segments: DatabaseSegments?
    }

    /// A file whose bytes are exactly its canonical encoding, indexed instead of decoded (see
    /// `CanonicalDatabaseIndex`): what the reload of a file written by the GitOps flow reads.
    public struct IndexedContents: Sendable {
        public let index: CanonicalDatabaseIndex
        /// The file's bytes, which are the canonical encoding.
        public let canonical: ByteBuffer
        public let revision: String
        /// ``DatabaseRevision/fileDigest(of:)`` of the bytes read.
        public let fileDigest: String
        /// The file cut into segments (see ``SnapshotCarryover``).
        let segments: DatabaseSegments
        /// Per release, its position in `carriedFrom`'s index when it was taken from there (-1: read).
        let origins: [Int32]?
        let carriedFrom: SnapshotCarryover?
    }

    /// What ``load(unlessFileDigestIs:carryingOver:)`` found.
    public enum LoadResult: Sendable {
        /// The file's bytes have the digest the caller already knows: nothing was parsed.
        case sameBytes
        /// The bytes are canonical: checked and indexed, no value decoded.
        case indexed(IndexedContents)
        /// Any other valid file: decoded (and canonically encoded).
        case loaded(Contents)
    }

    /// Identity of the file's current version; the poll compares it before reading anything.
    public struct Fingerprint: Sendable, Equatable {
        var inode: UInt64
        var size: UInt64
        var modified: Double
    }

    public let path: String
    public let maximumBytes: Int

    public init(path: String, maximumBytes: Int = Self.defaultMaximumBytes) {
        self.path = path
        self.maximumBytes = maximumBytes
    }

    /// Raw bytes of the file, at most `maximumBytes` (symlinks are followed, as ConfigMap mounts need).
    public func readBytes() throws(DatabaseLoadError) -> [UInt8] {
        Array(try self.readBuffer().readableBytesView)
    }

    /// Raw bytes of the file, read with `read(2)` straight into the buffer that a canonical file's
    /// snapshot then serves as the whole db (going through `Data` and an array had copied a large db
    /// twice more).
    public func readBuffer() throws(DatabaseLoadError) -> ByteBuffer {
        // O_NONBLOCK: opening a FIFO put in the file's place would otherwise wait for a writer forever,
        // and with it every later reload (reads of a regular file are not affected by the flag).
        let descriptor = open(self.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw .unreadable(path: self.path, reason: Self.describe(errno: errno)) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .unreadable(path: self.path, reason: Self.describe(errno: errno)) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            let kind = info.st_mode & S_IFMT == S_IFDIR ? "a directory" : "not a regular file"
            throw .unreadable(path: self.path, reason: kind)
        }
        let expected = max(Int(info.st_size), 0)
        guard expected <= self.maximumBytes else {
            throw .tooLarge(path: self.path, size: expected, limit: self.maximumBytes)
        }
        // One byte past the expected size (and past the limit) shows a file that grew while being read.
        let limit = self.maximumBytes < Int.max ? self.maximumBytes + 1 : Int.max
        var buffer = ByteBuffer()
        buffer.reserveCapacity(min(expected + 1, limit))
        var failure: Int32?
        while buffer.readableBytes < limit, failure == nil {
            let wanted = min(max(buffer.writableBytes, 64 * 1024), limit - buffer.readableBytes)
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: wanted) { space in
                while true {
                    let result = read(descriptor, space.baseAddress, wanted)
                    if result >= 0 { return result }
                    if errno != EINTR {
                        failure = errno
                        return 0
                    }
                }
            }
            if count == 0 { break }
        }
        if let failure { throw .unreadable(path: self.path, reason: Self.describe(errno: failure)) }
        guard buffer.readableBytes <= self.maximumBytes else {
            throw .tooLarge(path: self.path, size: buffer.readableBytes, limit: self.maximumBytes)
        }
        return buffer
    }

    /// Reads, validates and canonically encodes the file.
    public func load() throws(DatabaseLoadError) -> Contents {
        let bytes = try self.readBuffer()
        return try self.decode(bytes, fileDigest: bytes.withUnsafeReadableBytes { DatabaseRevision.fileDigest(of: $0) }, segments: nil)
    }

    /// Reads the file and, unless its bytes have the digest `known` (the file loaded last), validates it:
    /// indexes it when its bytes are canonical, else decodes and canonically encodes it. Hashing is an
    /// order of magnitude cheaper than parsing a large db, and most reload triggers (the watch set-up, a
    /// poll after `touch`, a repeated SIGHUP) find the same bytes.
    /// - Parameter previous: The served snapshot: the releases of a canonical file that lie in segments
    ///   the snapshot's file had are taken from its index instead of checked again (see
    ///   ``SnapshotCarryover``); build the new snapshot replacing it, so its blocks are copied too.
    public func load(unlessFileDigestIs known: String?, carryingOver previous: Snapshot? = nil) throws(DatabaseLoadError) -> LoadResult {
        let bytes = try self.readBuffer()
        let (digest, prefixes) = bytes.withUnsafeReadableBytes {
            DatabaseRevision.fileDigest(of: $0, notingPrefixesEvery: DatabaseSegments.prefixInterval)
        }
        if digest == known { return .sameBytes }
        // Only a snapshot whose gzip form is its own knows where its file's segments were.
        let form = previous?.wholeDatabase.compressed
        let carriedFrom = form == nil ? nil : previous?.carryover
        // Cut before checking: the segments the served file had are bytes already checked, and the
        // compression after the swap needs the same cuts. Within the prefix the two files share, the
        // served file's cuts and digests stand.
        var segments = bytes.withUnsafeReadableBytes { bytes in
            form.map { DatabaseSegments(of: bytes, prefixes: prefixes, sharingWith: $0.inputSegments) } ?? DatabaseSegments(of: bytes, prefixes: prefixes)
        }
        // The GitOps flow writes canonical files: they need checking and indexing, not decoding (a
        // `String` per value had been most of a large reload).
        let indexed: (index: CanonicalDatabaseIndex, origins: [Int32]?)? = bytes.withUnsafeReadableBytes { raw in
            let bytes = raw.assumingMemoryBound(to: UInt8.self)
            if let carriedFrom, let form {
                let unchanged = form.unchangedRanges(of: &segments, in: raw)
                let carryover = IndexCarryover(previous: carriedFrom.index, unchanged: unchanged)
                return DatabaseDecoder.indexCanonical(bytes, carryingOver: carryover).map { ($0.index, $0.origins) }
            }
            return DatabaseDecoder.indexCanonical(bytes).map { ($0, nil) }
        }
        if let indexed {
            return .indexed(
                IndexedContents(
                    index: indexed.index,
                    canonical: bytes,
                    revision: DatabaseRevision.of(canonicalFileDigest: digest),
                    fileDigest: digest,
                    segments: segments,
                    origins: indexed.origins,
                    carriedFrom: indexed.origins == nil ? nil : carriedFrom
                )
            )
        }
        return .loaded(try self.decode(bytes, fileDigest: digest, segments: segments))
    }

    /// - Parameter segments: `bytes` cut into segments, kept when `bytes` are what the snapshot serves.
    private func decode(_ bytes: ByteBuffer, fileDigest: String, segments: DatabaseSegments?) throws(DatabaseLoadError) -> Contents {
        let result = bytes.withUnsafeReadableBytes { raw in
            Result { () throws(DatabaseDecodingError) in try DatabaseDecoder.decodeNotingCanonical(raw.assumingMemoryBound(to: UInt8.self)) }
        }
        let decoded: DecodedDatabase
        do {
            decoded = try result.get()
        } catch {
            throw .decoding(path: self.path, error)
        }
        // The GitOps flow writes canonical files: their bytes are the canonical encoding already, and
        // encoding and hashing them again was a quarter of a large reload.
        if decoded.isCanonical {
            return Contents(
                database: decoded.database,
                canonical: bytes,
                canonicalReleaseSpans: decoded.canonicalReleaseSpans,
                revision: DatabaseRevision.of(canonicalFileDigest: fileDigest),
                fileDigest: fileDigest,
                segments: segments
            )
        }
        let canonical = CanonicalEncoder.encode(decoded.database)
        return Contents(
            database: decoded.database,
            canonical: ByteBuffer(bytes: canonical),
            canonicalReleaseSpans: nil,
            revision: DatabaseRevision.of(canonicalBytes: canonical),
            fileDigest: fileDigest,
            segments: nil
        )
    }

    /// The file's identity now, or nil when it cannot be stat'ed. `stat` follows symlinks, so a ConfigMap
    /// mount (`db.json -> ..data/db.json`) shows a new identity when kubelet swaps `..data`.
    public func fingerprint() -> Fingerprint? {
        var info = stat()
        guard stat(self.path, &info) == 0 else { return nil }
        return Fingerprint(
            inode: UInt64(info.st_ino),
            size: UInt64(info.st_size),
            modified: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        )
    }

    private static func describe(errno code: Int32) -> String {
        switch code {
        case ENOENT: return "the file does not exist"
        case EACCES: return "permission denied"
        default:
            let description = POSIXErrorCode(rawValue: code).map { POSIXError($0).localizedDescription } ?? "error \(code)"
            return "cannot read the file: \(description)"
        }
    }
}
