#if canImport(Glibc)
import Glibc
#endif

/// Replaces a file so that readers (the server's watcher, a concurrent `git`) only ever see the old or
/// the new content: write a temporary file in the same directory, fsync it, rename it over the target,
/// fsync the directory. A symlink is followed: the file it points to is replaced and the link stays (a
/// rename onto the link would have replaced the link with a file, leaving its target unchanged).
public enum AtomicFileWriter {
    /// What failed, named by the file the caller asked for (the temporary file beside it is an
    /// implementation detail, and is gone by the time this is thrown).
    public struct WriteError: Error, Sendable, CustomStringConvertible {
        public let path: String
        public let operation: String
        public let errno: Int32

        public var description: String {
            "\(self.path): \(self.operation) failed: \(String(cString: strerror(self.errno)))"
        }
    }

    public static func write(_ bytes: [UInt8], to path: String) throws(WriteError) {
        let target = Self.followingSymlink(path)
        let directory = target.lastIndex(of: "/").map { String(target[..<$0]) } ?? "."
        let temporary = "\(target).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var info = stat()
        let existing = stat(target, &info) == 0
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, existing ? info.st_mode & 0o7777 : 0o644)
        guard descriptor >= 0 else { throw WriteError(path: path, operation: "create a temporary file beside it", errno: errno) }
        if existing {
            // open(2)'s mode goes through the umask (664 became 644), and a new file belongs to whoever
            // writes it: the replaced file's owner, group and mode are kept. The owner can only be kept by
            // root (or when it is the writer), so a failed fchown is no error; fchmod comes after it, since
            // a change of owner clears the set-id bits.
            _ = fchown(descriptor, info.st_uid, info.st_gid)
            guard fchmod(descriptor, info.st_mode & 0o7777) == 0 else {
                let code = errno
                close(descriptor)
                unlink(temporary)
                throw WriteError(path: path, operation: "keep the file's mode", errno: code)
            }
        }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                Glibc.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(descriptor)
                unlink(temporary)
                throw WriteError(path: path, operation: "write", errno: code)
            }
            written += result
        }
        guard fsync(descriptor) == 0 else {
            let code = errno
            close(descriptor)
            unlink(temporary)
            throw WriteError(path: path, operation: "fsync", errno: code)
        }
        close(descriptor)
        guard rename(temporary, target) == 0 else {
            let code = errno
            unlink(temporary)
            throw WriteError(path: path, operation: "rename", errno: code)
        }
        let directoryDescriptor = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// The file a symlink at `path` points to (all links resolved), else `path` itself.
    public static func followingSymlink(_ path: String) -> String {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK, let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
