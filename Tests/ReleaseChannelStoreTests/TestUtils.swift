import Foundation
import Logging
import Metrics
import ReleaseChannelModel

/// A fresh directory under the system temp dir, removed when the test's scope ends.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        self.path = NSTemporaryDirectory() + "release-chan-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: self.path) }

    func file(_ name: String) -> String { "\(self.path)/\(name)" }
}

enum Fixtures {
    /// A canonical db with `containers` containers on dev/stage/prod, images tagged `tag`.
    static func database(containers: Int, tag: String = "v1") -> ReleaseDatabase {
        var releases: [Release] = []
        for index in 0..<containers {
            for channel in ["dev", "stage", "prod"] {
                releases.append(
                    Release(
                        container: "app-\(index)",
                        channel: channel,
                        image: "ghcr.io/acme/app-\(index):\(tag)-\(channel)",
                        updatedAt: "2026-11-26T12:00:00Z",
                        source: ReleaseSource(repository: "acme/app-\(index)", runID: Int64(index + 1))
                    )
                )
            }
        }
        return ReleaseDatabase(channels: ["dev", "stage", "prod"], releases: releases)
    }

    static func bytes(containers: Int, tag: String = "v1") -> [UInt8] {
        CanonicalEncoder.encode(self.database(containers: containers, tag: tag))
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()

    static let metrics: any MetricsFactory = NOOPMetricsHandler.instance
}

/// Waits for a condition that an event will make true, checking often, failing after `timeout`.
func eventually(
    timeout: Duration = .seconds(5),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
