import NIOCore
import ReleaseChannelProtocol

/// One protocol connection under load: HELLO, then GET requests as the driver dictates.
final class TCPLoadHandler: ChannelInboundHandler, LoadConnection {
    typealias InboundIn = Frame
    typealias OutboundOut = ByteBuffer

    var driver: LoadDriver
    var ticker: Scheduled<Void>?
    var needsFlush = false
    private let done: EventLoopPromise<ConnectionResult>
    private var nextID: UInt32 = 1
    private var started = false

    init(driver: LoadDriver, done: EventLoopPromise<ConnectionResult>) {
        self.driver = driver
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        var body = ByteBuffer()
        ProtocolMessages.Hello(versions: [Frame.currentVersion], clientName: "release-chan-bench").write(to: &body)
        var buffer = context.channel.allocator.buffer(capacity: 64)
        buffer.writeFrame(opcode: ProtocolOpcode.hello.rawValue, flags: [], requestID: 0, revision: .none) { $0.writeImmutableBuffer(body) }
        context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        guard self.started else {
            self.started = true
            guard frame.status == .ok else {
                self.driver.result.connectionErrors += 1
                context.close(promise: nil)
                return
            }
            self.startLoad(context: context)
            return
        }
        if frame.flags.contains(.push) { return }
        self.replied(context: context, ok: frame.status == .ok)
    }

    func send(context: ChannelHandlerContext, intendedStart: NIODeadline) {
        let key = self.driver.nextRequest(intendedStart: intendedStart)
        var buffer = context.channel.allocator.buffer(capacity: 32 + key.container.utf8.count + key.channel.utf8.count)
        buffer.writeFrame(opcode: ProtocolOpcode.get.rawValue, flags: [], requestID: self.nextID, revision: .none) {
            $0.writeWireString(key.container)
            $0.writeWireString(key.channel)
        }
        self.nextID &+= 1
        context.write(self.wrapOutboundOut(buffer), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.readComplete(context: context)
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
extension TCPLoadHandler: Sendable {}
