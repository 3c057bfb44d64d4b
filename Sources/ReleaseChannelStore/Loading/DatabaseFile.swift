import Foundation
#if canImport(Glibc)
import Glibc
#endif
public import ReleaseChannelModel

/// Reads and decodes the db file, enforcing the size limit before reading the whole file.
public struct DatabaseFile: Sendable {
    /// Default for `--max-db-bytes`: 256 MiB, room for the 300k-release benchmark db (≈ 94 MB).
    public static let defaultMaximumBytes = 256 * 1024 * 1024

    /// A decoded db with the bytes it was read from and its canonical encoding.
    public struct Contents: Sendable {
        public let database: ReleaseDatabase
        public let canonicalBytes: [UInt8]
        public let revision: String
        /// ``DatabaseRevision/fileDigest(of:)`` of the bytes read.
        public let fileDigest: String
    }

    /// What ``load(unlessFileDigestIs:)`` found.
    public enum LoadResult: Sendable {
        /// The file's bytes have the digest the caller already knows: nothing was parsed.
        case sameBytes
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
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: self.path))
        } catch {
            throw .unreadable(path: self.path, reason: Self.describe(error))
        }
        defer { try? handle.close() }
        do {
            // Read one byte past the limit so a file that grows while being read is still caught.
            let data = try handle.read(upToCount: self.maximumBytes + 1) ?? Data()
            guard data.count <= self.maximumBytes else {
                let size = (try? FileManager.default.attributesOfItem(atPath: self.path)[.size] as? Int) ?? data.count
                throw DatabaseLoadError.tooLarge(path: self.path, size: max(size ?? data.count, data.count), limit: self.maximumBytes)
            }
            return [UInt8](data)
        } catch let error as DatabaseLoadError {
            throw error
        } catch {
            throw .unreadable(path: self.path, reason: Self.describe(error))
        }
    }

    /// Reads, validates and canonically encodes the file.
    public func load() throws(DatabaseLoadError) -> Contents {
        let bytes = try self.readBytes()
        return try self.decode(bytes, fileDigest: DatabaseRevision.fileDigest(of: bytes))
    }

    /// Reads the file and, unless its bytes have the digest `known` (the file loaded last), validates and
    /// canonically encodes it. Hashing is an order of magnitude cheaper than parsing a large db, and
    /// most reload triggers (the watch set-up, a poll after `touch`, a repeated SIGHUP) find the same bytes.
    public func load(unlessFileDigestIs known: String?) throws(DatabaseLoadError) -> LoadResult {
        let bytes = try self.readBytes()
        let digest = DatabaseRevision.fileDigest(of: bytes)
        if digest == known { return .sameBytes }
        return .loaded(try self.decode(bytes, fileDigest: digest))
    }

    private func decode(_ bytes: [UInt8], fileDigest: String) throws(DatabaseLoadError) -> Contents {
        let database: ReleaseDatabase
        do {
            database = try DatabaseDecoder.decode(bytes)
        } catch {
            throw .decoding(path: self.path, error)
        }
        let canonical = CanonicalEncoder.encode(database)
        return Contents(
            database: database,
            canonicalBytes: canonical,
            revision: DatabaseRevision.of(canonicalBytes: canonical),
            fileDigest: fileDigest
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

    private static func describe(_ error: any Error) -> String {
        let nsError = error as NSError
        if nsError.domain == NSCocoaErrorDomain {
            switch nsError.code {
            case NSFileReadNoSuchFileError, NSFileNoSuchFileError: return "the file does not exist"
            case NSFileReadNoPermissionError: return "permission denied"
            default: break
            }
        }
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
            let code = POSIXErrorCode(rawValue: Int32(underlying.code))
        {
            return "cannot read the file: \(POSIXError(code).localizedDescription)"
        }
        return "cannot read the file: \(nsError.localizedDescription)"
    }
}
