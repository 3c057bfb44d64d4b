import Foundation
import NIOCore
import NIOHTTP1

/// One HTTP/1.1 keep-alive connection under load, pipelining GETs as the driver dictates.
final class HTTPLoadHandler: ChannelInboundHandler, LoadConnection {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    var driver: LoadDriver
    var ticker: Scheduled<Void>?
    var needsFlush = false
    let done: EventLoopPromise<ConnectionResult>
    private let host: String
    private let pathTemplate: String
    private var status: HTTPResponseStatus = .ok

    init(driver: LoadDriver, host: String, pathTemplate: String, done: EventLoopPromise<ConnectionResult>) {
        self.driver = driver
        self.host = host
        self.pathTemplate = pathTemplate
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        self.startLoad(context: context)
    }

    func send(context: ChannelHandlerContext, intendedStart: NIODeadline) {
        let key = self.driver.sampler.keys[self.driver.nextRequest(intendedStart: intendedStart)]
        let uri = self.pathTemplate.replacingOccurrences(of: "{container}", with: key.container).replacingOccurrences(of: "{channel}", with: key.channel)
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: uri)
        head.headers.add(name: "Host", value: self.host)
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        context.write(self.wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.status = head.status
        case .body:
            break
        case .end:
            self.replied(context: context, ok: self.status == .ok, now: .now())
        }
    }

    func flushRequests(context: ChannelHandlerContext) {
        context.flush()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.readComplete(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.finish()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail(context: context)
    }
}

@available(*, unavailable)
extension HTTPLoadHandler: Sendable {}
