import NIOCore
import NIOHTTP1

/// Counts the requests NIO's decoder reads (``FastPathOrdering/decoded()``), every one the router gets,
/// those passed on by ``RawReleaseLookupHandler`` and, once it passes the bytes through, all of them:
/// with ``FastPathOrderingHandler`` counting their responses down, the idle timeout knows when the
/// router has a request in hand (``HTTPIdleConnectionCloser``).
final class DecodedRequestCounter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private let ordering: FastPathOrdering

    init(ordering: FastPathOrdering) {
        self.ordering = ordering
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = self.unwrapInboundIn(data) { self.ordering.decoded() }
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension DecodedRequestCounter: Sendable {}
