import Foundation
import NIOCore
import ReleaseChannelModel
import ReleaseChannelProtocol

/// Draws (container, channel) keys from the served db: uniformly, or Zipf-distributed so that a few
/// containers are hot, as in real traffic.
struct KeySampler: Sendable {
    enum Distribution: String, Sendable {
        case uniform
        case zipf
    }

    let keys: [(container: String, channel: String)]
    private let cumulative: [Double]  // Zipf CDF over key ranks; empty for uniform

    init(database: ReleaseDatabase, distribution: Distribution, exponent: Double, seed: UInt64) {
        var random = SplitMix64(seed: seed)
        // Shuffle so that the hot keys are not all one container's channels.
        self.keys = database.releases.map { ($0.container, $0.channel) }.shuffled(using: &random)
        guard distribution == .zipf else {
            self.cumulative = []
            return
        }
        var weights = (1...max(1, self.keys.count)).map { 1 / pow(Double($0), exponent) }
        let total = weights.reduce(0, +)
        var running = 0.0
        for index in weights.indices {
            running += weights[index] / total
            weights[index] = running
        }
        self.cumulative = weights
    }

    /// The index (into ``keys``, and a ``WireRequests`` made from them) of the next key.
    func next(_ random: inout SplitMix64) -> Int {
        if self.cumulative.isEmpty {
            return Int(random.next() % UInt64(self.keys.count))
        }
        let target = Double(random.next() >> 11) / Double(1 << 53)
        var low = 0
        var high = self.cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if self.cumulative[middle] < target { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
