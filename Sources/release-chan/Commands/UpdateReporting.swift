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
            case .tooLarge:
                FileHandleOutput.standardError("\(path): \(error)")
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
            FileHandleOutput.standardOutput("changed: \(release.container)/\(release.channel) \(release.image) (\(Self.difference(from: previous, to: release)))")
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

    /// `was IMAGE`, or for the same image what else changed: a line that says only "X (was X)" hides
    /// that the digest or the source (and with it the stale guard's run id) was replaced.
    static func difference(from previous: Release, to release: Release) -> String {
        guard previous.image == release.image else { return "was \(previous.image)" }
        var changes: [String] = []
        if previous.digest != release.digest {
            changes.append("digest \(release.digest ?? "none") (was \(previous.digest ?? "none"))")
        }
        if previous.source != release.source {
            changes.append("source \(Self.describe(release.source)) (was \(Self.describe(previous.source)))")
        }
        if changes.isEmpty { changes.append("updated_at \(release.updatedAt) (was \(previous.updatedAt))") }
        return "same image; " + changes.joined(separator: "; ")
    }

    private static func describe(_ source: ReleaseSource?) -> String {
        guard let source else { return "none" }
        let parts = [
            source.repository, source.runID.map { "run \($0)" }, source.sha.map { String($0.prefix(12)) }, source.ref, source.actor.map { "by \($0)" },
        ]
        return parts.compactMap { $0 }.joined(separator: " ")
    }
}
