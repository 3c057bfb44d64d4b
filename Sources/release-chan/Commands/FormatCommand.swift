import ArgumentParser
import NIOCore
import ReleaseChannelModel
import ReleaseChannelStore

/// `release-chan db fmt [PATH] [--check]`
struct FormatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fmt",
        abstract: "Rewrite a db file in canonical form (sorted releases, stable key order, 2-space indent).",
        discussion: "Exit status: 0 formatted (or already canonical), 1 invalid or, with --check, not canonical, 4 I/O error."
    )

    @Argument(help: "Path of the db file.")
    var path: String = "db/db.json"

    @OptionGroup var limit: DatabaseLimitOptions
    @OptionGroup var lock: DatabaseLockOptions

    @Flag(help: "Do not write; exit 1 when the file is not in canonical form.")
    var check = false

    func run() throws {
        guard !self.check else { return try self.format() }
        // Under the update commands' lock: a `db set` landing between this read and the write would
        // otherwise be overwritten by the formatted old content.
        let lock: FileLock
        do {
            lock = try FileLock(for: self.path, timeout: self.lock.timeout, onWait: DatabaseLockOptions.announceWait)
        } catch {
            FileHandleOutput.standardError(error.description)
            throw ExitCode(4)
        }
        try self.format()
        _ = consume lock
    }

    /// One read of the file: canonical when its digest is the canonical encoding's.
    private func format() throws {
        let contents = try DatabaseLoading.load(self.path, maximumBytes: self.limit.maximumBytes)
        let canonicalDigest = contents.canonical.withUnsafeReadableBytes { DatabaseRevision.fileDigest(of: $0) }
        if canonicalDigest == contents.fileDigest {
            FileHandleOutput.standardOutput("\(self.path): already canonical")
            return
        }
        if self.check {
            FileHandleOutput.standardError("\(self.path): not in canonical form (run: release-chan db fmt \(self.path))")
            throw ExitCode(1)
        }
        // Canonical indentation can make a compact file larger: never write one the server would refuse.
        guard contents.canonical.readableBytes <= self.limit.maximumBytes else {
            FileHandleOutput.standardError(
                "\(self.path): the canonical form would be \(contents.canonical.readableBytes) bytes, over the limit of \(self.limit.maximumBytes) bytes (--max-db-bytes): nothing written"
            )
            throw ExitCode(1)
        }
        do {
            try AtomicFileWriter.write(contents.canonicalBytes, to: self.path)
        } catch {
            FileHandleOutput.standardError(error.description)
            throw ExitCode(4)
        }
        FileHandleOutput.standardOutput("\(self.path): formatted")
    }
}
