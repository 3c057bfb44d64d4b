import Histogram
import Synchronization

/// Results of one connection, owned by its event loop while it runs.
struct ConnectionResult: Sendable {
    var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    var completed = 0
    var errors = 0
    var connectionErrors = 0
}

/// Totals shared with the progress line (relaxed atomics: the progress line is approximate).
final class LiveCounters: Sendable {
    let completed = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
}

/// The merged outcome of a run.
struct LoadReport: Sendable {
    var mode: String
    var target: String
    var connections: Int
    var pipeline: Int
    var rate: Int?
    var seconds: Double
    var result = ConnectionResult()

    var requestsPerSecond: Double { Double(self.result.completed) / max(self.seconds, 0.001) }

    func percentile(_ value: Double) -> Double {
        Double(self.result.latency.valueAtPercentile(value)) / 1000
    }

    var table: String {
        let percentiles: [(String, Double)] = [("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9)]
        var lines = [
            "\(self.mode) \(self.target)  connections \(self.connections)  pipeline \(self.pipeline)  "
                + (self.rate.map { "rate \($0)/s  " } ?? "max rate  ") + "measured \(Self.format(self.seconds)) s",
            "requests \(self.result.completed)  rps \(Self.format(self.requestsPerSecond))  errors \(self.result.errors + self.result.connectionErrors)",
        ]
        var latency = "latency (µs)"
        for (name, value) in percentiles { latency += "  \(name) \(Self.format(self.percentile(value)))" }
        latency += "  max \(Self.format(Double(self.result.latency.maxRecorded) / 1000))"
        lines.append(latency)
        return lines.joined(separator: "\n")
    }

    var json: String {
        let rate = self.rate.map(String.init) ?? "null"
        return """
            {"mode":"\(self.mode)","target":"\(self.target)","connections":\(self.connections),"pipeline":\(self.pipeline),"rate":\(rate),\
            "seconds":\(Self.format(self.seconds)),"requests":\(self.result.completed),"errors":\(self.result.errors + self.result.connectionErrors),\
            "rps":\(Self.format(self.requestsPerSecond)),"latency_us":{"p50":\(Self.format(self.percentile(50))),"p90":\(Self.format(self.percentile(90))),\
            "p99":\(Self.format(self.percentile(99))),"p99_9":\(Self.format(self.percentile(99.9))),"max":\(Self.format(Double(self.result.latency.maxRecorded) / 1000))}}
            """
    }

    static func format(_ value: Double) -> String {
        let scaled = (value * 10).rounded() / 10
        return scaled == scaled.rounded() ? String(Int(scaled)) : String(scaled)
    }
}
