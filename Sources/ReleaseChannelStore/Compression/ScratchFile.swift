#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSystemShims
public import NIOCore

/// Immutable bytes in a file no other process can open, mapped read-only: the whole db's gzip form.
///
/// The file lets HTTP send the bytes with `sendfile(2)`, which copies them into the socket without
/// passing through user space (nginx's `gzip_static` does the same; writing them from a buffer had
/// been the gap to it). The mapping serves everything else (the protocol's SNAPSHOT, the next reload's
/// segment reuse, inflating for clients without gzip) from the same pages.
///
/// The file is an unnamed file (`O_TMPFILE`) in `$TMPDIR` (default `/tmp`) when its file system
/// allows that, else a file in memory (`memfd_create`). On a disk file system the kernel keeps the
/// pages in its page cache in large folios, which `sendfile` reads about a quarter faster than the
/// 4 KiB pages of shared memory (benchmarks/README.md); the bytes then also take room on that file
/// system until the snapshot is replaced (docs/deployment.md sizes `/tmp` for it). Such pages are page
/// cache, which the kernel can write back and drop under memory pressure, and count in the process's
/// resident memory only once read through the mapping (a SNAPSHOT, the next reload's segment reuse).
/// A file in memory can be neither, so its mapping is populated at once and its pages always count
/// in the process's resident memory, like the rest of the snapshot.
public final class ScratchFile: Sendable {
    /// Number of bytes.
    public let count: Int
    private let descriptor: Int32
    /// Read-only and never unmapped before `deinit`, so sharing it between threads is safe.
    nonisolated(unsafe) private let base: UnsafeRawPointer

    /// True when the file is in memory (`memfd`), false when it is on `$TMPDIR`'s file system.
    public let isInMemory: Bool

    private init(descriptor: Int32, base: UnsafeRawPointer, count: Int, isInMemory: Bool) {
        self.descriptor = descriptor
        self.base = base
        self.count = count
        self.isInMemory = isInMemory
    }

    deinit {
        release_chan_unmap_file(self.base, self.count)
        close(self.descriptor)
    }

    /// A file holding a copy of `bytes`.
    public static func copying(_ bytes: UnsafeRawBufferPointer, directory: String? = Writer.defaultDirectory) throws(CompressionError) -> ScratchFile {
        var writer = try Writer(name: "release-chan", directory: directory)
        try writer.append(bytes)
        return try writer.finish()
    }

    /// Calls `body` with the bytes, valid only during the call.
    public func withUnsafeBytes<Result, Failure: Error>(_ body: (UnsafeRawBufferPointer) throws(Failure) -> Result) throws(Failure) -> Result {
        try body(UnsafeRawBufferPointer(start: self.base, count: self.count))
    }

    /// A copy of the bytes in `range` (all of them by default).
    public func buffer(_ range: Range<Int>? = nil) -> ByteBuffer {
        self.withUnsafeBytes { ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: $0[range ?? 0..<self.count])) }
    }

    /// A new descriptor of the file for one response, which the caller must close (a `FileRegion` write
    /// can outlive a snapshot swap, and with it this file).
    public func makeFileHandle() throws(CompressionError) -> NIOFileHandle {
        let duplicate = fcntl(self.descriptor, F_DUPFD_CLOEXEC, 0)
        guard duplicate >= 0 else { throw CompressionError(operation: "dup", code: errno, isSystemCall: true) }
        return NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: duplicate)
    }

    /// Writes a file piece by piece (the compressor flushes its output every few hundred KiB rather than
    /// holding the whole form twice), then maps it.
    public struct Writer: ~Copyable {
        private let descriptor: Int32
        private let isInMemory: Bool
        private var finished = false
        /// Bytes written so far.
        public private(set) var count = 0

        /// `$TMPDIR`, or `/tmp` when it is unset or empty.
        public static var defaultDirectory: String {
            guard let directory = getenv("TMPDIR").map({ String(cString: $0) }), !directory.isEmpty else { return "/tmp" }
            return directory
        }

        /// - Parameters:
        ///   - name: The name of the file in memory, if it is one (it shows in `/proc/<pid>/fd`).
        ///   - directory: Where to create the file; nil, or a directory that cannot hold an unnamed
        ///     file (missing, read-only, a file system without `O_TMPFILE`), puts it in memory.
        public init(name: String, directory: String? = Self.defaultDirectory) throws(CompressionError) {
            var inMemory: Int32 = 0
            let descriptor = release_chan_scratch_file(directory, name, &inMemory)
            guard descriptor >= 0 else { throw CompressionError(operation: "memfd_create", code: errno, isSystemCall: true) }
            self.descriptor = descriptor
            self.isInMemory = inMemory != 0
        }

        deinit {
            if !self.finished { close(self.descriptor) }
        }

        public mutating func append(_ bytes: UnsafeRawBufferPointer) throws(CompressionError) {
            guard var next = bytes.baseAddress else { return }
            var remaining = bytes.count
            while remaining > 0 {
                let written = write(self.descriptor, next, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw CompressionError(operation: "write", code: errno, isSystemCall: true)
                }
                next += written
                remaining -= written
                self.count += written
            }
        }

        /// Maps what was written; the writer's descriptor now belongs to the file.
        public consuming func finish() throws(CompressionError) -> ScratchFile {
            guard self.count > 0 else { throw CompressionError(operation: "mmap", code: EINVAL, isSystemCall: true) }
            guard let base = release_chan_map_file(self.descriptor, self.count, self.isInMemory ? 1 : 0) else {
                throw CompressionError(operation: "mmap", code: errno, isSystemCall: true)
            }
            self.finished = true
            return ScratchFile(descriptor: self.descriptor, base: base, count: self.count, isInMemory: self.isInMemory)
        }
    }
}
