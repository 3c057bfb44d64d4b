import Foundation
import NIOCore
import NIOHTTP1

/// One HTTP/1.1 keep-alive connection under load, pipelining GETs as the driver dictates.
final class HTTPLoadHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private var driver: LoadDriver
    private let done: EventLoopPromise<ConnectionResult>
    private let host: String
    private let pathTemplate: String
    private var status: HTTPResponseStatus = .ok
    private var ticker: RepeatedTask?

    init(driver: LoadDriver, host: String, pathTemplate: String, done: EventLoopPromise<ConnectionResult>) {
        self.driver = driver
        self.host = host
        self.pathTemplate = pathTemplate
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        if let interval = self.driver.interval {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            var next = NIODeadline.now()
            self.ticker = context.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { task in
                let (handler, context) = loopBound.value
                guard NIODeadline.now() < handler.driver.stopAt else {
                    task.cancel()
                    if handler.driver.isFinished { context.close(promise: nil) }
                    return
                }
                handler.send(context: context, intendedStart: next)
                next = next + interval
                context.flush()
            }
        } else {
            for _ in 0..<self.driver.pipeline { self.send(context: context, intendedStart: .now()) }
            context.flush()
        }
        let channel = context.channel
        context.eventLoop.scheduleTask(deadline: self.driver.stopAt + .seconds(2)) { channel.close(promise: nil) }
    }

    private func send(context: ChannelHandlerContext, intendedStart: NIODeadline) {
        let key = self.driver.nextRequest(intendedStart: intendedStart)
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
            if self.driver.reply(ok: self.status == .ok) {
                self.send(context: context, intendedStart: .now())
                context.flush()
            } else if self.driver.isFinished {
                context.close(promise: nil)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.ticker?.cancel()
        self.done.succeed(self.driver.result)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.driver.result.connectionErrors += 1
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension HTTPLoadHandler: Sendable {}
