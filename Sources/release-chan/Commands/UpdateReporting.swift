import ArgumentParser
import ReleaseChannelModel
import ReleaseChannelStore

/// Prints an update's outcome and turns its errors into the documented exit codes:
/// 0 changed or unchanged, 1 invalid input, 3 stale or conflicting, 4 I/O.
enum UpdateReporting {
    static func run(_ path: String, _ update: () throws(UpdateError) -> DatabaseUpdater.Outcome) throws {
        let outcome: DatabaseUpdater.Outcome
        do {
            outcome = try update()
        } catch {
            switch error {
            case .invalid(let field, let message):
                FileHandleOutput.standardError("\(path): \(field): \(message)")
                throw ExitCode(1)
            case .invalidDatabase(let issues):
                // As `db validate` prints them (file:line:column: path: message).
                for issue in issues { FileHandleOutput.standardError(DatabaseDiagnostics.line(path: path, issue: issue)) }
                throw ExitCode(1)
            case .stale(let message):
                FileHandleOutput.standardError(message)
                throw ExitCode(3)
            case .io(let message):
                FileHandleOutput.standardError(message)
                throw ExitCode(4)
            }
        }
        switch outcome {
        case .created(let release):
            FileHandleOutput.standardOutput("changed: \(release.container)/\(release.channel) \(release.image) (new)")
        case .changed(let release, let previous):
            FileHandleOutput.standardOutput("changed: \(release.container)/\(release.channel) \(release.image) (was \(previous.image))")
        case .unchanged(let release):
            FileHandleOutput.standardOutput("unchanged: \(release.container)/\(release.channel) \(release.image)")
        case .removed(let releases):
            if releases.isEmpty {
                FileHandleOutput.standardOutput("unchanged: nothing to remove")
            }
            for release in releases {
                FileHandleOutput.standardOutput("removed: \(release.container)/\(release.channel) \(release.image)")
            }
        }
    }
}
