import ArgumentParser
import ReleaseChannelStore

/// `--lock-timeout` of the commands that write the db: how long they wait for another writer's lock.
struct DatabaseLockOptions: ParsableArguments {
    @Option(name: .customLong("lock-timeout"), parsing: .unconditional, help: "Seconds to wait for another writer's lock (PATH.lock), 0.01 to 3600.")
    var seconds: Double = 120

    func validate() throws {
        guard self.seconds >= 0.01, self.seconds <= 3600 else {
            throw ValidationError("--lock-timeout must be a number of seconds from 0.01 to 3600, not \(self.seconds)")
        }
    }

    var timeout: Duration { .milliseconds(Int64(self.seconds * 1000)) }

    /// Says on standard error why the command is not done yet: it had waited without a word.
    static let announceWait: @Sendable (String) -> Void = { lockPath in
        FileHandleOutput.standardError("waiting for \(lockPath): another update of this db is running")
    }

    /// The updater of the db at `path` with these options and `limit`.
    func updater(path: String, limit: DatabaseLimitOptions) -> DatabaseUpdater {
        DatabaseUpdater(path: path, maximumBytes: limit.maximumBytes, lockTimeout: self.timeout, onLockWait: Self.announceWait)
    }
}
