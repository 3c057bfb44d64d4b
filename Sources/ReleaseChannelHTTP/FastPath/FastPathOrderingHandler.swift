import NIOCore
import NIOHTTP1

/// Counts the responses to requests that ``RawReleaseLookupHandler`` passed on to NIO's decoder as they
/// end (``FastPathOrdering``), so that the raw path answers again once every earlier response is out.
///
/// It sits after the decoder and the pipelining handler, where every response to a passed-on request
/// (the router's, a 304, an error) goes by as HTTP/1 parts; each ends with exactly one `.end`. Its head
/// tells the request-head timeout that a response is under way, which a 408 must not cut into.
final class FastPathOrderingHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let ordering: FastPathOrdering

    init(ordering: FastPathOrdering) {
        self.ordering = ordering
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch self.unwrapOutboundIn(data) {
        case .head: self.ordering.startedResponse()
        case .end: self.ordering.answered()
        case .body: break
        }
        context.write(data, promise: promise)
    }
}

@available(*, unavailable)
extension FastPathOrderingHandler: Sendable {}
