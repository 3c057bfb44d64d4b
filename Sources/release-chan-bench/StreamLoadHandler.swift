import NIOCore

/// One connection under load, sending GETs as the driver dictates in the form `wireRequests` are
/// encoded in: release-chan's binary protocol, Redis's RESP, or HTTP/1.1 (keep-alive, pipelined).
///
/// Each request is one copy of its key's precomputed bytes and the requests of one read batch go out
/// as one buffer; replies are read in place. The load generator shares the cores with the server it
/// measures, so every cycle it spends is taken from the server: the three protocols are a branch here
/// rather than a generic parameter, whose methods NIO would call unspecialized (a generic version
/// of this class cost the load generator about 5% more of its profile).
final class StreamLoadHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private(set) var driver: LoadDriver
    /// The open-loop schedule, while one runs.
    private var schedule: OpenLoopSchedule?
    /// Whether requests were queued while reading a batch of replies; flushed once per batch.
    private var needsFlush = false
    /// Completed with the connection's results when it closes.
    private let done: EventLoopPromise<ConnectionResult>
    private let wireRequests: WireRequests
    /// Received bytes not yet read as replies (at most one incomplete reply between reads).
    private var received = ByteBuffer()
    /// Whether the greeting (if any) was answered and the load started.
    private var started = false
    private var nextID: UInt32 = 1
    /// Where mode http is in the response being read.
    private var httpReplies = HTTPReplies()
    /// Requests queued since the last flush.
    private var requests: ByteBuffer?
    /// The buffer of the last flush, reused once NIO has written it (as the server reuses its reply
    /// buffer): otherwise every request at pipeline depth 1 was an allocation.
    private var spare: ByteBuffer?

    init(driver: LoadDriver, wireRequests: WireRequests, done: EventLoopPromise<ConnectionResult>) {
        self.driver = driver
        self.wireRequests = wireRequests
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        switch self.wireRequests.form {
        case .protocolGet:
            context.writeAndFlush(self.wrapOutboundOut(ProtocolReplies.greeting(allocator: context.channel.allocator)), promise: nil)
        case .redisGet, .httpGet:
            self.started = true
            self.startLoad(context: context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = self.unwrapInboundIn(data)
        if self.received.readableBytes == 0 {
            self.received = bytes
        } else {
            self.received.writeImmutableBuffer(bytes)
        }
        let now = NIODeadline.now()
        do {
            while let reply = try self.nextReply() {
                guard case .answer(let ok) = reply else { continue }
                guard self.started else {
                    // The greeting's answer: the load starts, or the server turned the client away.
                    self.started = true
                    guard ok else { return self.fail(context: context) }
                    self.startLoad(context: context)
                    continue
                }
                self.replied(context: context, ok: ok, now: now)
            }
        } catch {
            self.errorCaught(context: context, error: error)
        }
    }

    /// Starts sending: `pipeline` requests at once (closed loop) or one per interval (open loop), and
    /// closes the connection two seconds after the end whatever happens.
    private func startLoad(context: ChannelHandlerContext) {
        if let openLoop = self.driver.openLoop {
            let schedule = OpenLoopSchedule(connection: self, context: context, interval: openLoop.interval, start: openLoop.firstTick(notBefore: .now()))
            self.schedule = schedule
            schedule.schedule()
        } else {
            for _ in 0..<self.driver.pipeline { self.send(context: context, intendedStart: .now()) }
            self.flushRequests(context: context)
        }
        let channel = context.channel
        context.eventLoop.scheduleTask(deadline: self.driver.stopAt + .seconds(2)) { channel.close(promise: nil) }
    }

    /// Records a reply received at `now` and queues the next request (closed loop; flushed at the end of
    /// the read batch) or closes once everything is answered. The replies of one read all arrived with
    /// that read, so they share its timestamp (one clock read per batch, not two per reply).
    private func replied(context: ChannelHandlerContext, ok: Bool, now: NIODeadline) {
        if self.driver.reply(ok: ok, at: now) {
            self.send(context: context, intendedStart: now)
            self.needsFlush = true
        } else if self.driver.isFinished {
            context.close(promise: nil)
        }
    }

    private func nextReply() throws -> Reply? {
        switch self.wireRequests.form {
        case .protocolGet: try ProtocolReplies.next(in: &self.received)
        case .redisGet: try RESPReplies.next(in: &self.received)
        case .httpGet: try self.httpReplies.next(in: &self.received)
        }
    }

    /// Queues one request.
    func send(context: ChannelHandlerContext, intendedStart: NIODeadline) {
        let key = self.driver.nextRequest(intendedStart: intendedStart)
        // Taken out of the property, so that the buffer is uniquely referenced while it is written: a
        // copy left behind had made every send copy the batch's requests so far (a tenth of the load
        // generator's profile at pipeline depth 16).
        var buffer = self.requests.take() ?? self.emptyBuffer(context: context)
        let start = buffer.writerIndex
        self.wireRequests.withRequest(key) { _ = buffer.writeBytes($0) }
        if self.wireRequests.form == .protocolGet {
            buffer.setInteger(self.nextID, at: start + WireRequests.requestIDOffset)
            self.nextID &+= 1
        }
        self.requests = buffer
    }

    /// Writes out the requests queued since the last call.
    func flushRequests(context: ChannelHandlerContext) {
        guard let requests = self.requests.take() else { return }
        context.writeAndFlush(self.wrapOutboundOut(requests), promise: nil)
        self.spare = requests
    }

    private func emptyBuffer(context: ChannelHandlerContext) -> ByteBuffer {
        guard var spare = self.spare.take() else {
            return context.channel.allocator.buffer(capacity: self.wireRequests.longest * max(1, self.driver.pipeline))
        }
        // Still held by NIO (the socket was full), it gets new storage instead.
        spare.clear()
        return spare
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.needsFlush {
            self.needsFlush = false
            self.flushRequests(context: context)
        }
    }

    /// The connection closed: stops the open-loop schedule and hands in the results.
    func channelInactive(context: ChannelHandlerContext) {
        self.schedule?.cancel()
        self.schedule = nil
        self.done.succeed(self.driver.result)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail(context: context)
    }

    /// A connection-level failure (refused, reset, a reply that cannot be read): counted, and the
    /// connection closed.
    private func fail(context: ChannelHandlerContext) {
        self.driver.result.connectionErrors += 1
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension StreamLoadHandler: Sendable {}
