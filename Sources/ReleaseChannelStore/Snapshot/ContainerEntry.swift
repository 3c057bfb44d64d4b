public import NIOCore

/// Everything a snapshot serves for one container, indexed by channel position.
public struct ContainerEntry: Sendable {
    /// `{"revision":…,"container":…,"releases":[…]}`.
    public let body: EncodedBody
    /// The container's releases by channel index (promotion order); nil where it has none.
    public let releases: [ReleaseEntry?]
}

/// One release as both transports send it: a slice of the snapshot's JSON arenas (no storage of its own;
/// the typed release is not kept, so a snapshot costs about its encoded bytes).
public struct ReleaseEntry: Sendable {
    /// The compact JSON object (HTTP), a slice of the container body.
    public let body: ByteBuffer
    /// Where the binary record's fields are in ``body``; nil only for a body not in the shape a
    /// release's compact JSON always has (see ``ReleaseRecordLayout``).
    public let recordLayout: ReleaseRecordLayout?

    /// The binary release record (docs/protocol.md §6.1): `str container, str channel, str image,
    /// str digest, str updated_at`.
    /// - Returns: false, writing nothing, when the release has no ``recordLayout``.
    public func writeRecord(to buffer: inout ByteBuffer) -> Bool {
        guard let layout = self.recordLayout else { return false }
        self.body.withUnsafeReadableBytes { json in
            if let base = json.baseAddress { layout.writeRecord(from: base, to: &buffer) }
        }
        return true
    }

    /// ``writeRecord(to:)`` into a buffer of its own; nil when the release has no ``recordLayout``.
    public var record: ByteBuffer? {
        var buffer = ByteBuffer()
        return self.writeRecord(to: &buffer) ? buffer : nil
    }
}
