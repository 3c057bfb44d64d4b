public import NIOCore
import ReleaseChannelProtocol

/// Settings of the binary protocol listener.
public struct ProtocolServerConfiguration: Sendable {
    public var host: String = "0.0.0.0"
    /// 0 picks a free port (tests).
    public var port: Int = 8090
    /// Largest frame accepted from a client, length prefix included; announced in the HELLO reply.
    public var maximumFrameBytes: Int = ProtocolMessages.defaultMaximumRequestFrame
    /// A connection that completes no frame in this time is closed, unless a reply is still being sent to
    /// it and its client took some of it in that time.
    public var idleTimeout: TimeAmount = .seconds(300)
    /// Connections over this number get ERROR BUSY and are closed.
    public var maximumConnections: Int = 1024
    /// Sent in the HELLO reply.
    public var serverID: String = "release-chan"

    public init() {}
}
