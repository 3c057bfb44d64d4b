import NIOCore
import ReleaseChannelProtocol

/// One protocol connection under load: HELLO, then GET requests as the driver dictates.
///
/// Reply headers are read in place (bodies skipped) and the requests of one read batch go out as one
/// buffer: the load generator shares the cores with the server it measures, so every cycle it spends is
/// taken from the server.
final class TCPLoadHandler: ChannelInboundHandler, LoadConnection {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    var driver: LoadDriver
    var ticker: Scheduled<Void>?
    var needsFlush = false
    private let done: EventLoopPromise<ConnectionResult>
    private var nextID: UInt32 = 1
    private var started = false
    private var frames = FrameHeaderReader(maximumFrameBytes: 1 << 24)
    private let wireKeys: WireKeys
    /// Requests queued since the last flush.
    private var requests: ByteBuffer?

    init(driver: LoadDriver, wireKeys: WireKeys, done: EventLoopPromise<ConnectionResult>) {
        self.driver = driver
        self.wireKeys = wireKeys
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
        self.frames.append(self.unwrapInboundIn(data))
        let now = NIODeadline.now()
        do {
            while let frame = try self.frames.next() {
                self.received(frame, at: now, context: context)
            }
        } catch {
            self.errorCaught(context: context, error: error)
        }
    }

    private func received(_ frame: FrameHeaderReader.Header, at now: NIODeadline, context: ChannelHandlerContext) {
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
        self.replied(context: context, ok: frame.status == .ok, now: now)
    }

    func send(context: ChannelHandlerContext, intendedStart: NIODeadline) {
        let key = self.driver.nextRequest(intendedStart: intendedStart)
        // Taken out of the property, so that the buffer is uniquely referenced while it is written: a
        // copy left behind had made every send copy the batch's requests so far (a tenth of the load
        // generator's profile at pipeline depth 16).
        var buffer = self.requests.take() ?? context.channel.allocator.buffer(capacity: 64 * max(1, self.driver.pipeline))
        let start = buffer.writerIndex
        self.wireKeys.withKey(key) { _ = buffer.writeBytes($0) }
        buffer.setInteger(self.nextID, at: start + WireKeys.requestIDOffset)
        self.requests = buffer
        self.nextID &+= 1
    }

    func flushRequests(context: ChannelHandlerContext) {
        guard let requests = self.requests else { return }
        self.requests = nil
        context.writeAndFlush(self.wrapOutboundOut(requests), promise: nil)
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
