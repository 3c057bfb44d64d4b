import Foundation

/// A fresh directory under the system temp dir, removed when the value goes away.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init() throws {
        self.path = NSTemporaryDirectory() + "release-chan-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: self.path) }

    public func file(_ name: String) -> String { "\(self.path)/\(name)" }
}

/// Waits for a condition that an event will make true, checking often, failing after `timeout`. The
/// generous default is for a loaded 2-core CI machine; speed goals live in benchmarks/.
public func eventually(timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// A failure a test helper reports.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
