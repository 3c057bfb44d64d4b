import ArgumentParser
import ReleaseChannelModel
import ReleaseChannelStore

/// `release-chan db generate --containers N [--seed S]`
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a valid, realistic db with N containers on every channel, the same for the same seed.",
        discussion: "For benchmarks and load tests. Exit status: 0 written, 1 larger than --max-db-bytes, 2 usage, 4 I/O."
    )

    @Option(parsing: .unconditional, help: "Number of containers.")
    var containers: Int

    @Option(parsing: .unconditional, help: "Seed of the generator.")
    var seed: UInt64 = 1

    @Option(help: "Channels in promotion order, comma separated.")
    var channels: String = "dev,stage,prod"

    @OptionGroup var limit: DatabaseLimitOptions

    @Option(name: .customLong("output"), help: "Where to write the db ('-' for standard output).")
    var output: String = "-"

    /// The channels as listed, empty names kept so that they are refused rather than dropped.
    var channelNames: [String] { self.channels.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }

    func validate() throws {
        guard (1...10_000_000).contains(self.containers) else { throw ValidationError("--containers must be between 1 and 10000000") }
        // The db's own rules for "channels": the file written must be valid.
        do {
            try FieldRules.checkChannelList(self.channelNames)
        } catch {
            throw ValidationError("--channels: \(error.message)")
        }
    }

    func run() throws {
        let database = DatabaseGenerator(containers: self.containers, seed: self.seed, channels: self.channelNames).generate()
        let bytes = CanonicalEncoder.encode(database)
        // What the server and `db validate` would refuse is not "a valid db".
        guard bytes.count <= self.limit.maximumBytes else {
            FileHandleOutput.standardError(
                "the db would be \(bytes.count) bytes, over the limit of \(self.limit.maximumBytes) bytes (--max-db-bytes; serve takes the same option): nothing written"
            )
            throw ExitCode(1)
        }
        if self.output == "-" {
            FileHandleOutput.standardOutputBytes(bytes)
            return
        }
        do {
            try AtomicFileWriter.write(bytes, to: self.output)
        } catch {
            FileHandleOutput.standardError(error.description)
            throw ExitCode(4)
        }
        FileHandleOutput.standardError("\(self.output): \(database.releases.count) releases, revision \(DatabaseRevision.of(canonicalBytes: bytes))")
    }
}
