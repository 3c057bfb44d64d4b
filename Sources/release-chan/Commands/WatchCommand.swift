import ArgumentParser
import Foundation
import ReleaseChannelClient

/// `release-chan watch`
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print every new db revision a running server swaps in, as it happens.",
        discussion: "Runs until interrupted, or until --count changes were printed; says on standard error when the connection is lost and when it is back. Exit status: 0, or 4 when no server is reachable."
    )

    @OptionGroup var connection: ProtocolEndpointOptions

    @Option(parsing: .unconditional, help: "Stop after this many changes (at least 1).")
    var count: Int?

    func validate() throws {
        // With 0 the loop's "seen >= count" is checked only after a change: it would never stop.
        if let count = self.count, count < 1 { throw ValidationError("--count must be at least 1, not \(count)") }
    }

    func run() async throws {
        let configuration = try self.connection.configuration()
        do {
            try await ReleaseChannelClient.withClient(configuration: configuration) { client in
                let changes = client.revisionChanges()
                let current = try await client.revision()
                FileHandleOutput.standardOutput("serving \(current.revision) \(Self.counts(of: current))")
                let report = ConnectionReport()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await report.follow(client) }
                    defer { group.cancelAll() }
                    var seen = 0
                    for await change in changes {
                        // A change noticed on reconnecting can come before the report of the reconnect.
                        report.reconnected(client)
                        let loaded = Date(timeIntervalSince1970: Double(change.loadedAtMilliseconds) / 1000).formatted(.iso8601)
                        FileHandleOutput.standardOutput("\(loaded) revision \(change.revision) \(Self.counts(of: change))")
                        seen += 1
                        if let count = self.count, seen >= count { return }
                    }
                }
            }
        } catch let error as ReleaseChannelClientError {
            FileHandleOutput.standardError("release-chan watch: \(error)")
            throw ExitCode(4)
        }
    }

    /// "(19 releases, 7 containers)", or what stands for the counts when the client noticed the change on
    /// reconnecting and does not know them.
    static func counts(of change: RevisionChange) -> String {
        guard let releases = change.releases, let containers = change.containers else { return "(noticed on reconnect; counts not known)" }
        return "(\(releases) releases, \(containers) containers)"
    }
}
