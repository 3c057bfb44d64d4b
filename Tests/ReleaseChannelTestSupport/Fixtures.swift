import Foundation
import Logging
import Metrics
import ReleaseChannelModel

/// Databases and files the tests build.
public enum Fixtures {
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `containers` containers on dev/stage/prod: `my-app`, `app-1`, `app-2`, …, with image
    /// `ghcr.io/acme/app-<index>:<tag>-<channel>`.
    public static func database(containers: Int, tag: String = "v1") -> ReleaseDatabase {
        var releases: [Release] = []
        for index in 0..<containers {
            for channel in ["dev", "stage", "prod"] {
                releases.append(
                    Release(
                        container: index == 0 ? "my-app" : "app-\(index)",
                        channel: channel,
                        image: "ghcr.io/acme/app-\(index):\(tag)-\(channel)",
                        updatedAt: "2026-11-26T12:00:00Z",
                        source: ReleaseSource(repository: "acme/app-\(index)", runID: Int64(index + 1), actor: "ci-bot")
                    )
                )
            }
        }
        return ReleaseDatabase(channels: ["dev", "stage", "prod"], releases: releases)
    }

    /// The ranges of `new` that a reload could know unchanged from `old`: their common prefix and suffix
    /// (a reload finds them by segment digests, coarser than this).
    public static func unchangedRanges(from old: [UInt8], to new: [UInt8]) -> [IndexCarryover.UnchangedRange] {
        var prefix = 0
        while prefix < min(old.count, new.count), old[prefix] == new[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < min(old.count, new.count) - prefix, old[old.count - 1 - suffix] == new[new.count - 1 - suffix] { suffix += 1 }
        return [
            IndexCarryover.UnchangedRange(start: 0, end: prefix, previousStart: 0),
            IndexCarryover.UnchangedRange(start: new.count - suffix, end: new.count, previousStart: old.count - suffix),
        ]
    }

    public static func bytes(containers: Int, tag: String = "v1") -> [UInt8] {
        CanonicalEncoder.encode(self.database(containers: containers, tag: tag))
    }

    public static func revision(containers: Int, tag: String) -> String {
        DatabaseRevision.of(canonicalBytes: self.bytes(containers: containers, tag: tag))
    }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Replaces the file in place (same inode): truncate and write, as `echo > file` does.
    public static func writeInPlace(_ bytes: [UInt8], to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }

    public static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()

    public static let metrics: any MetricsFactory = NOOPMetricsHandler.instance
}
