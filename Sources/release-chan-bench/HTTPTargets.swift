import Foundation

/// The request target of every key, made from `--path` once at start: filling in the template for
/// every request (two `replacingOccurrences`) had cost about a third of the load generator's CPU per
/// request in mode http, and 27 of its 42 mallocs (benchmarks/README.md).
struct HTTPTargets: Sendable {
    let uris: [String]

    init(keys: [(container: String, channel: String)], template: String) {
        self.uris = keys.map { key in
            template.replacingOccurrences(of: "{container}", with: key.container).replacingOccurrences(of: "{channel}", with: key.channel)
        }
    }
}
