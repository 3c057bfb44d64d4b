public import NIOCore

/// Everything a snapshot serves for one container, indexed by channel position.
public struct ContainerEntry: Sendable {
    /// `{"revision":…,"container":…,"releases":[…]}`.
    public let body: EncodedBody
    /// The container's releases by channel index (promotion order); nil where it has none.
    public let releases: [ReleaseEntry?]
}

/// One release as each transport sends it. Both are slices of the snapshot's arenas (no storage of
/// their own): the typed release is not kept, so a snapshot costs about its encoded bytes.
public struct ReleaseEntry: Sendable {
    /// The compact JSON object (HTTP), a slice of the container body.
    public let body: ByteBuffer
    /// The binary release record (docs/protocol.md §6.1): `str container, str channel, str image,
    /// str digest, str updated_at`.
    public let record: ByteBuffer
}
