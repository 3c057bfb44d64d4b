import ArgumentParser
import ReleaseChannelStore

/// Shared loading for the `db` commands: every problem is printed, then the exit code tells what kind.
enum DatabaseLoading {
    static func load(_ path: String, maximumBytes: Int) throws -> DatabaseFile.Contents {
        do {
            return try DatabaseFile(path: path, maximumBytes: maximumBytes).load()
        } catch {
            for issue in error.issues {
                FileHandleOutput.standardError(DatabaseDiagnostics.line(path: path, issue: issue))
            }
            if case .unreadable = error { throw ExitCode(4) }
            throw ExitCode(1)
        }
    }
}
