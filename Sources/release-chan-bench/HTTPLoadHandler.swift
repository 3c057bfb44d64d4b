import NIOCore
import NIOHTTP1

/// One HTTP/1.1 keep-alive connection under load, pipelining GETs as the driver dictates.
final class HTTPLoadHandler: ChannelInboundHandler, LoadConnection {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    var driver: LoadDriver
    var schedule: OpenLoopSchedule?
    var needsFlush = false
    let done: EventLoopPromise<ConnectionResult>
    /// The request target of every key, by the key's index (``HTTPTargets``).
    private let targets: HTTPTargets
    private let headers: HTTPHeaders
    private var status: HTTPResponseStatus = .ok

    init(driver: LoadDriver, host: String, targets: HTTPTargets, done: EventLoopPromise<ConnectionResult>) {
        self.driver = driver
        self.targets = targets
        self.headers = ["Host": host]
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        self.startLoad(context: context)
    }

    func send(context: ChannelHandlerContext, intendedStart: NIODeadline) {
        let uri = self.targets.uris[self.driver.nextRequest(intendedStart: intendedStart)]
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: self.headers)
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
