public import NIOCore

/// Everything a snapshot serves for one container, rendered from its packed releases when asked for.
public struct ContainerEntry: Sendable {
    let table: ContainerTable
    let location: ContainerTable.Location

    /// `{"revision":…,"container":…,"releases":[…]}`, releases in promotion order.
    public var body: EncodedBody { self.table.body(at: self.location) }

    /// The container's releases by channel index (promotion order); nil where it has none.
    public var releases: [ReleaseEntry?] {
        (0..<self.table.channelCount).map { self.release(channel: $0) }
    }

    /// The container's release on the channel at `channel` in the promotion order; nil when it has none.
    public func release(channel: Int) -> ReleaseEntry? {
        self.table.release(at: self.location, channel: channel)
    }
}

/// One release of a snapshot, rendered for either transport when asked for (the snapshot keeps it
/// packed, see ``PackedRelease``).
public struct ReleaseEntry: Sendable {
    let table: ContainerTable
    let location: ContainerTable.Location
    let channel: Int

    /// Calls `body` with the packed release (always present: an entry exists only for a release).
    private func withPacked(_ body: (PackedRelease) -> Void) {
        _ = self.table.withRelease(at: self.location, channel: self.channel, body)
    }

    /// The compact JSON object, the body of `GET /v1/releases/{container}/{channel}`.
    public var body: ByteBuffer {
        var buffer = ByteBuffer()
        self.withPacked { $0.writeJSON(to: &buffer) }
        return buffer
    }

    /// Whether the release has a binary record (every release of a valid db has one; see
    /// ``PackedRelease``).
    public var hasRecord: Bool {
        var hasRecord = false
        self.withPacked { hasRecord = $0.hasRecord }
        return hasRecord
    }

    /// Appends the binary release record (docs/protocol.md §6.1): `str container, str channel,
    /// str image, str digest, str updated_at`.
    /// - Returns: false, writing nothing, when the release has no record.
    public func writeRecord(to buffer: inout ByteBuffer) -> Bool {
        var written = false
        self.withPacked { written = $0.writeRecord(to: &buffer) }
        return written
    }

    /// ``writeRecord(to:)`` into a buffer of its own; nil when the release has no record.
    public var record: ByteBuffer? {
        var buffer = ByteBuffer()
        return self.writeRecord(to: &buffer) ? buffer : nil
    }
}
