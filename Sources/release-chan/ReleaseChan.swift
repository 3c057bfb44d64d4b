import ArgumentParser

/// `release-chan`: the release channel service and its tools.
@main
struct ReleaseChan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release-chan",
        abstract: "Which container image runs on which release channel: the service and its tools.",
        subcommands: [ServeCommand.self, DatabaseCommand.self, QueryCommand.self, WatchCommand.self, DispatchCommand.self]
    )

    /// Exit codes are part of the CLI's contract: 0 success, 1 invalid input, 2 usage, 3 stale, 4 I/O.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                // ArgumentParser uses EX_USAGE (64); ours is 2, as for most Unix tools.
                FileHandleOutput.standardError(fullMessage(for: error))
                exit(withError: ExitCode(2))
            }
            exit(withError: error)
        }
    }
}
