/// A validated release database (format version 1), its releases in canonical order.
public struct ReleaseDatabase: Sendable, Hashable {
    /// The only format version this build reads and writes.
    public static let schemaVersion = 1

    /// Channel names in promotion order (e.g. dev, stage, prod).
    public private(set) var channels: [String]
    /// Releases sorted by container, then by the channel's position in ``channels``.
    public private(set) var releases: [Release]

    /// Creates a database, putting the releases in canonical order. The values must already be valid;
    /// ``DatabaseDecoder`` and the update commands check them.
    public init(channels: [String], releases: [Release]) {
        self.channels = channels
        self.releases = releases
        self.sortReleases()
    }

    /// For a decoder that has checked that `releases` are strictly in canonical order (so also free of
    /// duplicate pairs): skips the pass that checks it again.
    init(channels: [String], releasesInCanonicalOrder releases: [Release]) {
        self.channels = channels
        self.releases = releases
    }

    /// Position of a channel in the promotion order, or nil when it is not declared.
    public func channelIndex(of channel: String) -> Int? {
        self.channels.firstIndex(of: channel)
    }

    /// The release of a container on a channel.
    public func release(container: String, channel: String) -> Release? {
        self.releases.first { $0.container == container && $0.channel == channel }
    }

    /// Inserts or replaces the release for its (container, channel) pair.
    public mutating func upsert(_ release: Release) {
        if let index = self.releases.firstIndex(where: { $0.container == release.container && $0.channel == release.channel }) {
            self.releases[index] = release
        } else {
            self.releases.append(release)
            self.sortReleases()
        }
    }

    /// Removes the releases of a container, on one channel or on all; returns how many were removed.
    @discardableResult
    public mutating func remove(container: String, channel: String? = nil) -> Int {
        let before = self.releases.count
        self.releases.removeAll { $0.container == container && (channel == nil || $0.channel == channel) }
        return before - self.releases.count
    }

    private mutating func sortReleases() {
        var order: [String: Int] = [:]
        for (index, channel) in self.channels.enumerated() { order[channel] = index }
        func precedes(_ lhs: Release, _ rhs: Release) -> Bool {
            if lhs.container != rhs.container {
                return lhs.container.utf8.lexicographicallyPrecedes(rhs.container.utf8)
            }
            return (order[lhs.channel] ?? Int.max) < (order[rhs.channel] ?? Int.max)
        }
        // A db read from a file written by this tool is already in canonical order: checking that is
        // one pass, where sorting 300k releases was a noticeable part of a reload.
        let releases = self.releases
        if releases.indices.dropFirst().allSatisfy({ !precedes(releases[$0], releases[$0 - 1]) }) { return }
        self.releases.sort(by: precedes)
    }
}
