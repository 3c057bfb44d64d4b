import ArgumentParser
import ReleaseChannelStore

/// `--max-db-bytes` of the `db` commands: the same flag, variable and default as `serve`'s, so that a
/// file they accept or write is one the server loads.
struct DatabaseLimitOptions: ParsableArguments {
    @Option(name: .customLong("max-db-bytes"), help: "Largest db file read or written, e.g. 268435456, 64MiB; as serve's. [RELEASE_CHAN_MAX_DB_BYTES, default 256MiB]")
    var text: String?

    /// The limit in bytes; ``validate()`` has checked that it parses.
    var maximumBytes: Int { (try? self.resolve()) ?? DatabaseFile.defaultMaximumBytes }

    func validate() throws {
        _ = try self.resolve()
    }

    private func resolve() throws -> Int {
        try EnvironmentValue.value(
            self.text, "--max-db-bytes", "RELEASE_CHAN_MAX_DB_BYTES", default: DatabaseFile.defaultMaximumBytes, parse: EnvironmentValue.parseByteCount
        )
    }
}
