import ArgumentParser

/// `release-chan db …`: work with a db file without a server.
struct DatabaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Validate, query, format and update a release database file.",
        subcommands: [
            ValidateCommand.self, GetCommand.self, FormatCommand.self, SetCommand.self, PromoteCommand.self, RemoveCommand.self,
            HistoryCommand.self, GenerateCommand.self,
        ]
    )
}
