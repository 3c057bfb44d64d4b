import ArgumentParser
import ReleaseChannelModel
import ReleaseChannelStore

/// `release-chan db validate [PATH]`
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a db file against every rule; list each problem with its line, column and JSON path.",
        discussion: "Exit status: 0 valid, 1 invalid, 4 the file cannot be read."
    )

    @Argument(help: "Path of the db file.")
    var path: String = "db/db.json"

    @OptionGroup var limit: DatabaseLimitOptions

    func run() throws {
        let contents = try DatabaseLoading.load(self.path, maximumBytes: self.limit.maximumBytes)
        let containers = Set(contents.database.releases.map(\.container)).count
        FileHandleOutput.standardOutput(
            "\(self.path): valid (revision \(contents.revision), \(contents.database.releases.count) releases, \(containers) containers)"
        )
    }
}
