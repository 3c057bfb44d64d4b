import HTTPTypes
import NIOCore
import NIOHTTP1

/// Gives the 400 a connection ends with when the HTTP/1 parser refuses a request the JSON error body
/// every other error has (docs/http-api.md §6), with a message naming what the parser refused.
///
/// Hummingbird answers a parser error itself, outside the router and its error mapping: a bare head
/// (`400`, `Connection: close`, `Content-Length: 0`), written after the responses to the requests before
/// it, then the close. This handler sits after the decoder, so the parser's error passes it on the way to
/// Hummingbird; the next response head it sees after that error is that 400, and it is rewritten there,
/// in its place in the response order, with its body.
final class HTTPParserErrorResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private var refused: APIError?
    /// The `Server` header every other response has (Hummingbird's head has neither it nor `Date`).
    private let serverName: String

    init(serverName: String) {
        self.serverName = serverName
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? HTTPParserError, self.refused == nil {
            self.refused = APIError(.badRequest, code: "bad_request", message: Self.message(for: error))
        }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Responses to earlier requests may be written after the error is seen: only Hummingbird's bare 400
        // is the parser's answer.
        guard let refused = self.refused, case .head(var head) = self.unwrapOutboundIn(data), head.status == .badRequest,
            head.headers["content-length"] == ["0"]
        else {
            context.write(data, promise: promise)
            return
        }
        self.refused = nil
        let body = refused.body()
        head.headers.replaceOrAdd(name: "Content-Type", value: JSONBody.contentType)
        head.headers.replaceOrAdd(name: "Cache-Control", value: "no-store")
        head.headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
        head.headers.replaceOrAdd(name: "Connection", value: "close")
        var dates = HTTPDateCache()
        head.headers.replaceOrAdd(name: "Date", value: dates.now())
        head.headers.replaceOrAdd(name: "Server", value: self.serverName)
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: promise)
    }

    /// What the parser refused, in the terms of docs/http-api.md §1.
    static func message(for error: HTTPParserError) -> String {
        switch error {
        case .headerOverflow:
            "the request head is over the server's limits (80 KiB of header fields, 1000 fields, an 80 KiB request line)"
        case .invalidMethod:
            "the request method is not one the HTTP/1 parser knows"
        case .invalidVersion:
            "the HTTP version is not HTTP/1.0 or HTTP/1.1"
        case .invalidURL, .invalidHost, .invalidPort, .invalidPath, .invalidQueryString, .invalidFragment:
            "the request target is not a valid URL"
        case .invalidContentLength, .unexpectedContentLength:
            "the Content-Length field is not valid for this request"
        case .invalidChunkSize:
            "a chunk size of the chunked request body is not valid"
        case .invalidHeaderToken, .invalidCharactersUsed, .lfExpected, .invalidConstant, .strictModeAssertion:
            "the request head is malformed: \(error)"
        default:
            "the request could not be parsed: \(error)"
        }
    }
}

@available(*, unavailable)
extension HTTPParserErrorResponder: Sendable {}
