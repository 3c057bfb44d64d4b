/// What the indexing of a new db file can take from the index of the file before it: the releases that
/// lie, whole, in byte ranges the caller knows to be unchanged.
///
/// The checks of a release read only its own bytes, from its first line to its closing brace (every
/// optional member is told apart by its first byte, which lies inside the release), and the channel list
/// it is checked against. So a release whose bytes are the bytes of a release the previous index
/// accepted, under the same channels, is accepted with the same fields: ``CanonicalIndexer`` takes its
/// entry from there instead of reading it again. What lies between releases, and the order of every
/// pair of neighbours, is still checked. A GitOps commit changes one release, and reading the others
/// again had been a quarter of each reload's CPU.
public struct IndexCarryover: Sendable {
    /// A range of the new file whose bytes equal those at `previousStart` in the previous file.
    public struct UnchangedRange: Sendable, Equatable {
        public var start: Int
        public var end: Int
        public var previousStart: Int

        public init(start: Int, end: Int, previousStart: Int) {
            self.start = start
            self.end = end
            self.previousStart = previousStart
        }
    }

    let previous: CanonicalDatabaseIndex
    /// Sorted by `start`, not overlapping.
    let ranges: [UnchangedRange]
    private var range = 0
    /// Where the last release was found in `previous`, to try its successor before a search.
    private var hint = -1

    /// - Parameters:
    ///   - previous: The index of the previous file.
    ///   - ranges: Ranges of the new file unchanged from the previous file, in any order.
    public init(previous: CanonicalDatabaseIndex, unchanged ranges: [UnchangedRange]) {
        self.previous = previous
        self.ranges = ranges.filter { $0.start < $0.end }.sorted { $0.start < $1.start }
    }

    /// The entry of a release that starts at `position` of the new file (at its indentation, before
    /// its `{`) and whose bytes are a release of the previous index, with that release's position there;
    /// nil when there is none. Positions must be asked for in increasing order.
    mutating func release(at position: Int) -> (previous: Int, entry: CanonicalDatabaseIndex.Entry)? {
        while self.range < self.ranges.count, self.ranges[self.range].end <= position { self.range += 1 }
        guard self.range < self.ranges.count else { return nil }
        let range = self.ranges[self.range]
        guard range.start <= position else { return nil }
        // The release's `{` comes after the four spaces of its indentation (see `CanonicalIndexer`).
        let shift = range.previousStart - range.start
        guard let found = self.previousRelease(startingAt: position + 4 + shift) else { return nil }
        let old = self.previous.entries[found]
        let end = Int(old.end) - shift
        // The whole release, indentation to closing brace, must lie in the unchanged range.
        guard end <= range.end, end <= Int(UInt32.max) else { return nil }
        self.hint = found
        return (
            found,
            CanonicalDatabaseIndex.Entry(
                start: UInt32(position + 4),
                end: UInt32(end),
                container: UInt32(Int(old.container) - shift),
                containerLength: old.containerLength,
                channel: old.channel
            )
        )
    }

    /// The previous release whose `{` is at `start`: the successor of the last one found (the common
    /// case: unchanged releases follow each other), else a binary search over the sorted starts.
    private func previousRelease(startingAt start: Int) -> Int? {
        let entries = self.previous.entries
        let next = self.hint + 1
        if next < entries.count, Int(entries[next].start) == start { return next }
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if Int(entries[middle].start) < start { low = middle + 1 } else { high = middle }
        }
        return low < entries.count && Int(entries[low].start) == start ? low : nil
    }
}
