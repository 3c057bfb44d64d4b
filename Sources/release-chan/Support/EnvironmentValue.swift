import ArgumentParser
import Foundation

/// Reads `RELEASE_CHAN_*` environment variables (the fallback when a flag is absent), so every `serve`
/// option can come from a Kubernetes env block.
enum EnvironmentValue {
    static func resolve<Value>(
        _ variable: String,
        default defaultValue: Value,
        parse: (String) -> Value?
    ) throws -> Value {
        guard let text = ProcessInfo.processInfo.environment[variable], !text.isEmpty else { return defaultValue }
        guard let value = parse(text) else {
            throw ValidationError("environment variable \(variable) has an invalid value \"\(text)\"")
        }
        return value
    }

    /// `30s`, `500ms`, `2m`, `1h`, or plain seconds.
    static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)), number >= 0, number.isFinite else { return nil }
            return .milliseconds(Int64(number * scale * 1000))
        }
        guard let seconds = Double(text), seconds >= 0, seconds.isFinite else { return nil }
        return .milliseconds(Int64(seconds * 1000))
    }

    /// `1048576`, `64KiB`, `64MiB`, `1GiB` (also `K`/`M`/`G` as binary units).
    static func parseByteCount(_ text: String) -> Int? {
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let number = Int(text.dropLast(suffix.count)), number > 0 else { return nil }
            return number * scale
        }
        guard let number = Int(text), number > 0 else { return nil }
        return number
    }

    static func parseBool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "1", "true", "yes", "on": true
        case "0", "false", "no", "off": false
        default: nil
        }
    }
}
