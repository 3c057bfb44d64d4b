/// Builds a large, valid, realistic db from a seed: the same seed always gives the same bytes, so
/// benchmarks and load tests on different machines use identical data.
public struct DatabaseGenerator: Sendable {
    public var containers: Int
    public var seed: UInt64
    public var channels: [String]

    public init(containers: Int, seed: UInt64 = 1, channels: [String] = ["dev", "stage", "prod"]) {
        self.containers = containers
        self.seed = seed
        self.channels = channels
    }

    static let domains = [
        "billing", "checkout", "search", "auth", "catalog", "payments", "inventory", "notifications", "orders",
        "profile", "recommendations", "shipping", "pricing", "ledger", "gateway", "media", "analytics", "identity",
    ]
    static let roles = ["api", "worker", "web", "service", "consumer", "scheduler", "sync", "proxy", "indexer"]
    static let registries = ["ghcr.io/acme", "registry.acme.internal:5000/platform", "docker.io/acme", "ghcr.io/acme-labs"]
    static let actors = ["ci-bot", "github-actions[bot]", "release-bot", "alice", "bob-dev", "carol"]

    /// The db: every container on every channel, older versions further along the promotion order.
    public func generate() -> ReleaseDatabase {
        var random = SplitMix64(seed: self.seed)
        var releases: [Release] = []
        releases.reserveCapacity(self.containers * self.channels.count)
        var runID: Int64 = 10_000_000_000
        for index in 0..<self.containers {
            let domain = Self.domains[Int(random.next() % UInt64(Self.domains.count))]
            let role = Self.roles[Int(random.next() % UInt64(Self.roles.count))]
            let container = "\(domain)-\(role)-\(String(index, radix: 36))"
            let registry = Self.registries[Int(random.next() % UInt64(Self.registries.count))]
            let major = Int(random.next() % 4)
            let minor = Int(random.next() % 30)
            var patch = Int(random.next() % 20) + self.channels.count
            for (position, channel) in self.channels.enumerated() {
                // dev runs the newest build; each later channel runs an older patch.
                patch -= position == 0 ? 0 : 1
                runID += Int64(random.next() % 500) + 1
                let tag = "v\(major).\(minor).\(patch)"
                let digest = "sha256:" + random.hex(bytes: 32)
                let day = 1 + Int(random.next() % 28)
                let second = Int(random.next() % 86_400)
                releases.append(
                    Release(
                        container: container,
                        channel: channel,
                        image: "\(registry)/\(container):\(tag)",
                        digest: digest,
                        updatedAt: Self.timestamp(day: day, second: second),
                        source: ReleaseSource(
                            repository: "acme/\(container)",
                            sha: random.hex(bytes: 20),
                            ref: position == 0 ? "refs/heads/main" : "refs/tags/\(tag)",
                            runID: runID,
                            actor: Self.actors[Int(random.next() % UInt64(Self.actors.count))]
                        )
                    )
                )
            }
        }
        return ReleaseDatabase(channels: self.channels, releases: releases)
    }
}

extension DatabaseGenerator {
    /// `2026-11-DDTHH:MM:SSZ`.
    static func timestamp(day: Int, second: Int) -> String {
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "2026-11-\(two(day))T\(two(second / 3600)):\(two(second / 60 % 60)):\(two(second % 60))Z"
    }
}

/// A small, fast, seedable generator (SplitMix64): good enough statistics for test data and load keys.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        self.state = seed
    }

    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func hex(bytes: Int) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes * 2)
        var remaining = bytes
        while remaining > 0 {
            var word = self.next()
            for _ in 0..<min(8, remaining) {
                text.append(digits[Int(word & 0x0F)])
                text.append(digits[Int((word >> 4) & 0x0F)])
                word >>= 8
            }
            remaining -= min(8, remaining)
        }
        return String(decoding: text, as: UTF8.self)
    }
}
