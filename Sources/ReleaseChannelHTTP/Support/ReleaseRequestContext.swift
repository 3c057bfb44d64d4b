public import Hummingbird
public import NIOCore

/// Per-request context: Hummingbird's core storage plus the peer address, which the reload endpoint
/// needs to tell loopback callers from remote ones.
public struct ReleaseRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// Reload requests carry no body; anything larger is refused before it is read.
    public var maxUploadSize: Int { APIError.maximumRequestBodyBytes }
}
