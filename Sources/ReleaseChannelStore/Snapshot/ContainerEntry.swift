public import NIOCore
public import ReleaseChannelModel

/// Everything a snapshot serves for one container, indexed by channel position.
public struct ContainerEntry: Sendable {
    /// `{"revision":…,"container":…,"releases":[…]}`.
    public let body: EncodedBody
    /// The container's releases by channel index (promotion order); nil where it has none.
    public let releases: [ReleaseEntry?]
}

/// One release and its compact JSON object, a slice of the container body (no extra storage).
public struct ReleaseEntry: Sendable {
    public let release: Release
    public let body: ByteBuffer
}
