import NIOCore
import NIOHTTP1

/// Counts the requests NIO's decoder reads (``FastPathOrdering/decodedHead()``), every one the router
/// gets, those passed on by ``RawReleaseLookupHandler`` and, once it passes the bytes through, all of
/// them: with ``FastPathOrderingHandler`` counting their responses down, the idle timeout knows when the
/// router has a request in hand (``HTTPIdleConnectionCloser``). The ends of their heads and of the
/// requests tell the raw handler whether the bytes it passed on end inside a head (the request-head
/// timeout, ``HTTPRequestHeadTimeoutHandler``).
final class DecodedRequestCounter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private let ordering: FastPathOrdering

    init(ordering: FastPathOrdering) {
        self.ordering = ordering
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head: self.ordering.decodedHead()
        case .end: self.ordering.decodedEnd()
        case .body: break
        }
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension DecodedRequestCounter: Sendable {}
