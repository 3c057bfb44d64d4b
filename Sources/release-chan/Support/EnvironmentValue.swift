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

    /// A flag's value, else its environment variable's, else the default; a bad value names its source.
    static func value<Value>(
        _ flag: String?,
        _ name: String,
        _ variable: String,
        default defaultValue: Value,
        parse: (String) -> Value?
    ) throws -> Value {
        if let flag {
            guard let value = parse(flag) else { throw ValidationError("\(name) has an invalid value \"\(flag)\"") }
            return value
        }
        return try Self.resolve(variable, default: defaultValue, parse: parse)
    }

    /// `30s`, `500ms`, `2m`, `1h`, or plain seconds; at most ``maximumDurationSeconds``.
    static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        let (digits, scale) = units.first { text.hasSuffix($0.0) }.map { (text.dropLast($0.0.count), $0.1) } ?? (Substring(text), 1)
        guard let number = Double(digits), number >= 0, number.isFinite, number * scale <= Self.maximumDurationSeconds else { return nil }
        return .milliseconds(Int64(number * scale * 1000))
    }

    /// The longest duration an option takes, ten years: longer is a typo, and far longer would not fit
    /// the milliseconds it is counted in.
    static let maximumDurationSeconds: Double = 10 * 365 * 24 * 3600

    /// `1048576`, `64KiB`, `64MiB`, `1GiB` (also `K`/`M`/`G` as binary units); nil when it does not fit
    /// an `Int`.
    static func parseByteCount(_ text: String) -> Int? {
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30)]
        let (digits, scale) = units.first { text.hasSuffix($0.0) }.map { (text.dropLast($0.0.count), $0.1) } ?? (Substring(text), 1)
        guard let number = Int(digits), number > 0 else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: scale)
        return overflow ? nil : bytes
    }

    static func parseBool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "1", "true", "yes", "on": true
        case "0", "false", "no", "off": false
        default: nil
        }
    }
}
