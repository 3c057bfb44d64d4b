#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSystemShims
public import NIOCore

/// Immutable bytes held in an in-memory file (`memfd_create` on Linux) and mapped read-only: the whole
/// db's gzip form.
///
/// The file lets HTTP send the bytes with `sendfile(2)`, which copies them into the socket without
/// passing through user space (nginx's `gzip_static` does the same; writing them from a buffer had
/// been the gap to it). The mapping serves everything else (the protocol's SNAPSHOT, the next reload's
/// segment reuse, inflating for clients without gzip) from the same pages, which are mapped in at once
/// so that they count in the process's resident memory like the rest of the snapshot.
public final class SharedMemoryFile: Sendable {
    /// Number of bytes.
    public let count: Int
    private let descriptor: Int32
    /// Read-only and never unmapped before `deinit`, so sharing it between threads is safe.
    nonisolated(unsafe) private let base: UnsafeRawPointer

    private init(descriptor: Int32, base: UnsafeRawPointer, count: Int) {
        self.descriptor = descriptor
        self.base = base
        self.count = count
    }

    deinit {
        release_chan_unmap_file(self.base, self.count)
        close(self.descriptor)
    }

    /// A file holding a copy of `bytes`.
    public static func copying(_ bytes: UnsafeRawBufferPointer) throws(CompressionError) -> SharedMemoryFile {
        var writer = try Writer(name: "release-chan")
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
        private var finished = false
        /// Bytes written so far.
        public private(set) var count = 0

        public init(name: String) throws(CompressionError) {
            let descriptor = release_chan_anonymous_file(name)
            guard descriptor >= 0 else { throw CompressionError(operation: "memfd_create", code: errno, isSystemCall: true) }
            self.descriptor = descriptor
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
        public consuming func finish() throws(CompressionError) -> SharedMemoryFile {
            guard self.count > 0 else { throw CompressionError(operation: "mmap", code: EINVAL, isSystemCall: true) }
            guard let base = release_chan_map_file(self.descriptor, self.count) else {
                throw CompressionError(operation: "mmap", code: errno, isSystemCall: true)
            }
            self.finished = true
            return SharedMemoryFile(descriptor: self.descriptor, base: base, count: self.count)
        }
    }
}
