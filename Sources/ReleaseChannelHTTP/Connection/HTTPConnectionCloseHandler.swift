import NIOCore
import NIOHTTP1

/// Makes the request a connection ends with (RFC 9112 §9.6) end it on the router's path too, and
/// says so in its response.
///
/// Hummingbird stops reading a connection after a request only when its `Connection` field is
/// exactly `close`: `Connection: Close`, `keep-alive, close` or HTTP/1.0 without `keep-alive` were
/// answered and the connection kept open, and the decoder, which knew better, refused the next
/// request with a bare 400. The decoder's own reading of the head (`isKeepAlive`: any case, any list
/// position, the version's default) is what counts here: such a head is handed on with `Connection:
/// close`, the one form Hummingbird acts on, and the response to it gets `Connection: close`.
///
/// A request after which the decoder parses nothing more (`CONNECT`, or an `Upgrade` the server does
/// not take) is treated the same way: the connection could carry nothing after its response, and
/// without a close the client, and Hummingbird waiting for the next request, would wait for ever.
///
/// It sits after the decoder, before the conversion to HTTP types; responses to requests the fast
/// path answers never pass it (the fast path answers no such request).
final class HTTPConnectionCloseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Heads the decoder has read on this connection.
    private var requestsRead = 0
    /// Final (non-1xx) response heads written.
    private var responsesStarted = 0
    /// The ordinal of the request the connection ends with, once one has been read.
    private var lastRequest: Int?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = self.unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        self.requestsRead += 1
        guard self.lastRequest == nil, Self.endsConnection(head) else {
            context.fireChannelRead(data)
            return
        }
        self.lastRequest = self.requestsRead
        head.headers.replaceOrAdd(name: "Connection", value: "close")
        context.fireChannelRead(self.wrapInboundOut(.head(head)))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head(var head) = self.unwrapOutboundIn(data), head.status.code >= 200 || head.status.code == 101 else {
            context.write(data, promise: promise)
            return
        }
        self.responsesStarted += 1
        guard self.responsesStarted == self.lastRequest else {
            context.write(data, promise: promise)
            return
        }
        head.headers.replaceOrAdd(name: "Connection", value: "close")
        context.write(self.wrapOutboundOut(.head(head)), promise: promise)
    }

    /// Whether nothing may follow this request on its connection. `isKeepAlive` is the decoder's own
    /// reading, kept with the head, so the common keep-alive request costs no look at its fields.
    static func endsConnection(_ head: HTTPRequestHead) -> Bool {
        if !head.isKeepAlive || head.method == .CONNECT { return true }
        // The decoder stops parsing after an upgrade request (`Upgrade` with `Connection: upgrade`).
        guard head.headers.contains(name: "upgrade") else { return false }
        return head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "upgrade" }
    }
}

@available(*, unavailable)
extension HTTPConnectionCloseHandler: Sendable {}
