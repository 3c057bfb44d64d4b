/// Where the releases are in a db file whose bytes are exactly its canonical encoding (what the GitOps
/// flow and `db fmt` write): each release's object, its container name and its channel's position,
/// found and validated without decoding a value into a `String`.
///
/// The reload serves such a file as it is, so it needs no typed releases, only where they are. Built by
/// ``DatabaseDecoder/indexCanonical(_:)``.
public struct CanonicalDatabaseIndex: Sendable {
    /// Channel names in promotion order.
    public let channels: [String]
    /// Number of distinct containers.
    public let containerCount: Int
    let entries: [Entry]

    /// One release, in 16 bytes (a large db has 300k of them): offsets into the file.
    struct Entry: Sendable, Equatable {
        var start: UInt32
        var end: UInt32
        var container: UInt32
        var containerLength: UInt8
        var channel: UInt8
    }

    init(channels: [String], containerCount: Int, entries: [Entry]) {
        self.channels = channels
        self.containerCount = containerCount
        self.entries = entries
    }

    /// Number of releases.
    public var count: Int { self.entries.count }

    /// The byte range of release `index`'s object, `{` to `}`, in canonical order.
    public func span(of index: Int) -> Range<Int> {
        Int(self.entries[index].start)..<Int(self.entries[index].end)
    }

    /// The byte range of release `index`'s container name (a DNS label: its bytes are the name).
    public func containerName(of index: Int) -> Range<Int> {
        let entry = self.entries[index]
        return Int(entry.container)..<(Int(entry.container) + Int(entry.containerLength))
    }

    /// Position of release `index`'s channel in ``channels``.
    public func channel(of index: Int) -> Int {
        Int(self.entries[index].channel)
    }
}
