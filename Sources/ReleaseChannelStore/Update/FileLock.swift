#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on `PATH.lock`, so concurrent update commands on one checkout serialize.
/// The lock file is never removed: removing it would let two processes lock different inodes.
/// A symlinked db is locked at the file it points to, the file that is written: writers that reach it by
/// the link and by its own path (or by two links) take one lock, not two, and lose no update.
public struct FileLock: ~Copyable {
    private let descriptor: Int32

    /// How long an update waits for another writer by default: far longer than any update of a db
    /// within the size limit takes, so only a writer that hangs (or a lock held by hand) runs into it.
    public static let defaultTimeout: Duration = .seconds(120)

    /// Waits for the lock of the db at `path`, at most `timeout`; it is released when the value goes
    /// away. `onWait` is called once, with the lock file's path, when another writer holds it.
    /// - Throws: ``UpdateError/io(_:)`` naming the lock file when it cannot be opened or locked, or is
    ///   still held after `timeout`.
    public init(for path: String, timeout: Duration = Self.defaultTimeout, onWait: (String) -> Void = { _ in }) throws(UpdateError) {
        let lockPath = "\(AtomicFileWriter.followingSymlink(path)).lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .io("\(lockPath): cannot open lock file: \(String(cString: strerror(errno)))")
        }
        let deadline = ContinuousClock.now + timeout
        var waited = false
        // flock(2) has no timeout: a non-blocking try, again every 10 ms until the deadline.
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            guard code == EINTR || code == EWOULDBLOCK else {
                close(descriptor)
                throw .io("\(lockPath): cannot lock: \(String(cString: strerror(code)))")
            }
            if code == EINTR { continue }
            guard ContinuousClock.now < deadline else {
                close(descriptor)
                throw .io("\(lockPath): still held by another writer after \(Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18) s; nothing written")
            }
            if !waited {
                waited = true
                onWait(lockPath)
            }
            usleep(10_000)
        }
        self.descriptor = descriptor
    }

    deinit {
        flock(self.descriptor, LOCK_UN)
        close(self.descriptor)
    }
}
