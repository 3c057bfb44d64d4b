import ReleaseChannelModel

/// What the next reload can take from a snapshot built from a canonical file: the index of that file
/// and where each container's block is in the snapshot's arenas.
///
/// The next file is cut into segments before it is checked (``DatabaseSegments``); the segments that
/// the snapshot's gzip form found in this file (``SegmentedGzip/unchangedRanges(of:in:)``) are
/// unchanged bytes, so the releases lying in them are taken from this index (``IndexCarryover``), and a
/// container all of whose releases were taken has its block copied from this snapshot's arenas instead
/// of packed again. A GitOps commit changes one release: its reload checks and packs the few
/// containers around it.
///
/// Holds no arena: the builder copies from the previous snapshot it is given, which must be the one
/// this came from (a class, so the builder can tell).
final class SnapshotCarryover: Sendable {
    /// A container's block in the snapshot, in the order of the file.
    struct Container: Sendable {
        /// Position in ``index`` of its first release.
        var firstRelease: UInt32
        /// Length of its block, from its location.
        var blockLength: UInt32
        /// Bytes its releases take in its body: each one's compact JSON and a separator.
        var releasesLength: UInt32
        var location: ContainerTable.Location
    }

    let index: CanonicalDatabaseIndex
    let containers: [Container]
    /// How many of those blocks the build copied from the snapshot before (for the reload's log).
    let copiedContainers: Int

    init(index: CanonicalDatabaseIndex, containers: [Container], copiedContainers: Int) {
        self.index = index
        self.containers = containers
        self.copiedContainers = copiedContainers
    }

    /// The container whose first release is release `release` of ``index``, and how many releases it
    /// has; nil when that release is not the first of its container.
    func container(startingAt release: Int) -> (container: Container, releaseCount: Int)? {
        var low = 0
        var high = self.containers.count
        while low < high {
            let middle = (low + high) / 2
            if Int(self.containers[middle].firstRelease) < release { low = middle + 1 } else { high = middle }
        }
        guard low < self.containers.count, Int(self.containers[low].firstRelease) == release else { return nil }
        let next = low + 1 < self.containers.count ? Int(self.containers[low + 1].firstRelease) : self.index.count
        return (self.containers[low], next - release)
    }
}
