#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on `PATH.lock`, so concurrent update commands on one checkout serialize.
/// The lock file is never removed: removing it would let two processes lock different inodes.
/// A symlinked db is locked at the file it points to, the file that is written: writers that reach it by
/// the link and by its own path (or by two links) take one lock, not two, and lose no update.
public struct FileLock: ~Copyable {
    private let descriptor: Int32

    /// Waits for the lock of the db at `path`; it is released when the value goes away.
    /// - Throws: ``UpdateError/io(_:)`` naming the lock file when it cannot be opened or locked.
    public init(for path: String) throws(UpdateError) {
        let lockPath = "\(AtomicFileWriter.followingSymlink(path)).lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .io("\(lockPath): cannot open lock file: \(String(cString: strerror(errno)))")
        }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let code = errno
                close(descriptor)
                throw .io("\(lockPath): cannot lock: \(String(cString: strerror(code)))")
            }
        }
        self.descriptor = descriptor
    }

    deinit {
        flock(self.descriptor, LOCK_UN)
        close(self.descriptor)
    }
}
