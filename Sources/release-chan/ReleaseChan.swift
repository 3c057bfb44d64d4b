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
        var parsed: (any ParsableCommand.Type)?
        do {
            var command = try parseAsRoot()
            parsed = type(of: command)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                // ArgumentParser uses EX_USAGE (64); ours is 2, as for most Unix tools.
                if let parsed, error is ValidationError {
                    // Thrown by a command's run(), which ArgumentParser would answer with the root's usage.
                    let usage = usageString(for: parsed)
                    let path = usage.split(separator: " ").prefix { !"<[-".contains($0.first ?? "<") }.joined(separator: " ")
                    FileHandleOutput.standardError("Error: \(error)\nUsage: \(usage)\n  See '\(path) --help' for more information.")
                } else {
                    FileHandleOutput.standardError(fullMessage(for: error))
                }
                exit(withError: ExitCode(2))
            }
            exit(withError: error)
        }
    }
}
