import Logging
import Metrics
import NIOCore
import NIOExtras
import ReleaseChannelProtocol
import ReleaseChannelStore
import ReleaseChannelTransportSupport

/// One client connection: framing, handshake, request dispatch, WATCH pushes, backpressure, idle and
/// quiesce.
///
/// Everything runs on the connection's event loop. Frames are cut from the received bytes here (see
/// ``FrameReassembler`` for why not by a handler in front). The replies to one
/// read batch are written into one buffer and flushed once, and its metrics are counted once, so a
/// pipelined burst costs one syscall and, once the buffer of the batch before has been written, no
/// allocation; while the outbound buffer is over its high-water
/// mark the handler stops asking for more input (the client's sends then block in TCP).
final class ProtocolConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let store: SnapshotStore
    private let configuration: ProtocolServerConfiguration
    private let metrics: ProtocolMetrics
    private let limiter: ConnectionLimiter
    private let logger: Logger
    // The state below is only touched on the connection's event loop, and no access to it is held
    // across a call into NIO (each one ends before `write`, `read` or `close`), so Swift's dynamic
    // exclusivity checks could never fire here: unchecked, they no longer cost 2–4% of the server's
    // profile under load (`swift_beginAccess`).
    private var admitted = false
    @exclusivity(unchecked) private var handshaken = false
    @exclusivity(unchecked) private var closing = false
    /// No more requests will be read (the client's half-close, or graceful shutdown): the connection
    /// closes once the complete frames read before that are answered (§10.8).
    @exclusivity(unchecked) private var inputEnded = false
    /// Whether the last pass over the received frames stopped at the channel's high-water mark, so that
    /// complete frames may still wait in the reassembler for the channel to drain.
    @exclusivity(unchecked) private var framesHeldBack = false
    private var watchToken: SnapshotStore.ObserverToken?
    /// Counts WATCHes, so that a push meant for an earlier subscription is not sent on a later one.
    private var subscription = 0
    /// Replies of the current read batch, written as one buffer at the end of the batch.
    @exclusivity(unchecked) private var output: ByteBuffer?
    /// The buffer of the batch before, for the next batch's replies: NIO writes a flushed buffer at once
    /// unless the socket is full, and then this is its only reference, so its memory is reused (a
    /// 16 KiB allocation had been paid for every reply at pipeline depth 1). Large ones are let go.
    @exclusivity(unchecked) private var spare: ByteBuffer?
    @exclusivity(unchecked) private var readPending = false
    @exclusivity(unchecked) private var frames: FrameReassembler
    /// Whether the current read batch completed a frame (the idle timeout counts complete frames only).
    @exclusivity(unchecked) private var framesInBatch = false
    @exclusivity(unchecked) private var lastFrameAt = NIODeadline.now()
    private var idleCheck: Scheduled<Void>?
    private var delivery = DeliveryProgress()
    @exclusivity(unchecked) private var pendingMetrics = PendingMetrics()

    init(store: SnapshotStore, configuration: ProtocolServerConfiguration, metrics: ProtocolMetrics, limiter: ConnectionLimiter, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.metrics = metrics
        self.limiter = limiter
        self.logger = logger
        self.frames = FrameReassembler(maximumFrameBytes: configuration.maximumFrameBytes)
    }

    // MARK: Life cycle

    func channelActive(context: ChannelHandlerContext) {
        guard self.limiter.acquire() else {
            self.metrics.rejectedConnections.increment()
            self.fail(context: context, ProtocolError(.busy, "too many connections (limit \(self.limiter.maximum))"), lingering: false)
            return
        }
        self.admitted = true
        self.lastFrameAt = .now()
        self.scheduleIdleCheck(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.unwatch()
        self.idleCheck?.cancel()
        self.pendingMetrics.flush(to: self.metrics)
        if self.admitted {
            self.admitted = false
            self.limiter.release()
        }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.unwatch()
        self.idleCheck?.cancel()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            // Graceful shutdown: what was read so far is answered (bytes read from now on are not), then the
            // connection closes.
            self.endInput(context: context)
        } else if case ChannelEvent.inputClosed = event {
            // The client shut down its sending side (§10.8): the complete frames it sent are answered and
            // their replies go out before the close (a bare EOF would have NIO close and drop them).
            self.endInput(context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? ProtocolError {
            self.fail(context: context, error)
        } else {
            context.close(promise: nil)
        }
    }

    // MARK: Requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.closing, !self.inputEnded else { return }
        self.frames.append(self.unwrapInboundIn(data))
        self.answerFrames(context: context)
    }

    /// Answers the complete frames received, until the replies waiting to be sent pass the high-water
    /// mark: one read of small requests (20-byte SNAPSHOTs, say) could otherwise queue a reply each, of
    /// any size, at once. The frames left wait in the reassembler until the channel is writable again.
    private func answerFrames(context: ChannelHandlerContext) {
        // One snapshot per pass, not per frame: the frames answered together come from one revision.
        let snapshot = self.store.current
        self.framesHeldBack = false
        do {
            while !self.closing, let frame = try self.frames.next() {
                self.framesInBatch = true
                self.handle(context: context, frame: frame, snapshot: snapshot)
                if let output = self.output, output.readableBytes >= Self.outputHighWaterMark {
                    self.flushOutput(context: context)
                    guard context.channel.isWritable else {
                        self.framesHeldBack = true
                        return
                    }
                }
            }
        } catch let error as ProtocolError {
            self.fail(context: context, error)
            return
        } catch {
            context.close(promise: nil)
            return
        }
        // Every complete frame is answered; what is left is at most a partial frame, which a connection
        // whose input ended discards.
        if self.inputEnded { self.closeAfterFlush(context: context, lingering: false) }
    }

    /// No more requests are read; the connection closes now, or once the frames held back by
    /// backpressure are answered (``channelWritabilityChanged(context:)`` goes on with them).
    private func endInput(context: ChannelHandlerContext) {
        guard !self.inputEnded else { return }
        self.inputEnded = true
        if !self.framesHeldBack { self.closeAfterFlush(context: context, lingering: false) }
    }

    /// Replies held before they are handed to the channel, whose own high-water mark (set by
    /// ``ProtocolServer``) then decides whether more frames are answered.
    static let outputHighWaterMark = 256 * 1024

    private func handle(context: ChannelHandlerContext, frame: Frame, snapshot: Snapshot?) {
        self.pendingMetrics.bytesIn += Frame.headerSize + frame.body.readableBytes
        guard frame.version == Frame.currentVersion else {
            self.fail(context: context, ProtocolError(.unsupportedVersion, "supported versions: \(Frame.currentVersion)"))
            return
        }
        // A reply to it would carry opcode 0x00 and read as an ERROR frame (§3), so it is one (§11.1).
        guard frame.opcode != ProtocolOpcode.error.rawValue else {
            self.fail(context: context, ProtocolError(.badFrame, "opcode 0x00 is the server's ERROR frame, not a request"))
            return
        }
        guard frame.flags.isEmpty, frame.status == .ok else {
            let message = frame.flags.isEmpty ? "status must be 0 in a request" : "invalid flags 0x\(ProtocolResponder.hex(frame.flags.rawValue)) in a request"
            self.reply(context: context, frame: frame, error: ProtocolError(.badFrame, message), thenClose: true)
            return
        }
        guard self.handshaken else {
            guard frame.opcode == ProtocolOpcode.hello.rawValue else {
                self.reply(context: context, frame: frame, error: ProtocolError(.badRequest, "handshake required"), thenClose: true)
                return
            }
            self.hello(context: context, frame: frame)
            return
        }
        guard let opcode = frame.knownOpcode, opcode != .revisionChanged else {
            self.reply(context: context, frame: frame, error: ProtocolError(.unknownOpcode, "unknown opcode 0x\(ProtocolResponder.hex(frame.opcode))"))
            return
        }
        switch opcode {
        case .hello:
            self.reply(context: context, frame: frame, error: ProtocolError(.badRequest, "duplicate HELLO"))
        case .watch, .unwatch:
            guard frame.body.readableBytes == 0 else {
                self.reply(context: context, frame: frame, error: ProtocolError(.badRequest, "malformed \(opcode.name) body: \(frame.body.readableBytes) unexpected bytes"))
                return
            }
            // Subscribed before the reply reads the revision: a swap in between is then in the reply, or
            // pushed, or both, never lost (§7.9). A push reaches the connection as a task on this event
            // loop, so it is written after the reply, which is flushed now; after UNWATCH none is.
            if opcode == .watch { self.watch(context: context) } else { self.unwatch() }
            self.write(context: context, opcode: frame.opcode, status: .ok) { buffer, revision in
                buffer.writeFrame(opcode: frame.opcode, flags: .reply, requestID: frame.requestID, revision: revision) { _ in }
            }
            self.flushOutput(context: context)
        default:
            var buffer = self.takeOutput(context: context)
            let before = buffer.readableBytes
            let status: ProtocolStatus
            if let snapshot {
                status = ProtocolResponder.respond(to: frame, opcode: opcode, snapshot: snapshot, into: &buffer)
            } else if opcode == .ping {
                // PING needs no snapshot (§10.2): a keep-alive must not fail while the server waits for a db.
                status = ProtocolResponder.pong(to: frame, revision: .none, into: &buffer)
            } else {
                let error = ProtocolError(.busy, "no db snapshot is being served yet")
                ProtocolResponder.writeError(error, opcode: frame.opcode, requestID: frame.requestID, revision: .none, into: &buffer)
                status = error.status
            }
            self.pendingMetrics.count(slot: self.metrics.slot(opcode: frame.opcode, status: status), bytesOut: buffer.readableBytes - before, flushingTo: self.metrics)
            self.output = buffer
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.endBatch(context: context)
        context.fireChannelReadComplete()
    }

    /// After a batch of frames was answered (a read, or frames held back until the channel drained):
    /// the idle clock, one write of the replies, the metrics.
    private func endBatch(context: ChannelHandlerContext) {
        if self.framesInBatch {
            self.framesInBatch = false
            self.lastFrameAt = .now()
        }
        self.flushOutput(context: context)
        self.pendingMetrics.flush(to: self.metrics)
    }

    // MARK: Idle timeout (docs/protocol.md §10.6)

    /// Checks at the moment the connection would become idle; a frame since then moves the check on. A
    /// connection with replies still queued is not idle while its client takes some of them (a large
    /// SNAPSHOT read slowly: the client's PINGs are not read while replies wait, §10.5), and is checked
    /// again a timeout later; one whose client took nothing since the previous check is closed.
    private func scheduleIdleCheck(context: ChannelHandlerContext, at deadline: NIODeadline? = nil) {
        let deadline = deadline ?? self.lastFrameAt + self.configuration.idleTimeout
        self.idleCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            guard !self.closing else { return }
            let now = NIODeadline.now()
            guard now - self.lastFrameAt >= self.configuration.idleTimeout else {
                self.scheduleIdleCheck(context: context)
                return
            }
            switch self.delivery.check(context.channel) {
            case .nothingQueued:
                break
            case .taking:
                self.scheduleIdleCheck(context: context, at: now + self.configuration.idleTimeout)
                return
            case .stopped(let queuedBytes):
                self.logger.notice("closing protocol connection whose client took none of its replies for the idle timeout", metadata: ["queued_bytes": "\(queuedBytes)"])
                self.metrics.stalledConnectionsClosed.increment()
            }
            // No complete frame for the whole idle timeout, and no reply the client is still taking:
            // close without a frame.
            context.close(promise: nil)
        }
    }

    /// Writes the batch's replies as one buffer and flushes: one syscall for a pipelined burst.
    private func flushOutput(context: ChannelHandlerContext) {
        guard let output = self.output.take() else { return }
        context.writeAndFlush(self.wrapOutboundOut(output), promise: nil)
        if output.capacity <= Self.outputCapacity { self.spare = output }
    }

    /// The buffer the current batch's replies go into.
    private func takeOutput(context: ChannelHandlerContext) -> ByteBuffer {
        if let output = self.output.take() { return output }
        if var spare = self.spare.take() {
            // A buffer NIO has not written yet (a full socket) is left to it: `clear` allocates anew.
            spare.clear()
            return spare
        }
        return context.channel.allocator.buffer(capacity: Self.outputCapacity)
    }

    /// What a batch's buffer starts with, and the most a connection keeps between batches (16 MiB at
    /// the default 1,024 connections): about 80 GET replies.
    static let outputCapacity = 16 * 1024

    private func hello(context: ChannelHandlerContext, frame: Frame) {
        var body = frame.body
        let hello: ProtocolMessages.Hello
        do {
            hello = try ProtocolMessages.Hello.read(from: &body)
        } catch {
            self.reply(context: context, frame: frame, error: ProtocolError(.badRequest, "malformed HELLO body: \(error.message)"))
            return
        }
        guard hello.versions.contains(Frame.currentVersion) else {
            self.reply(context: context, frame: frame, error: ProtocolError(.unsupportedVersion, "supported versions: \(Frame.currentVersion)"), thenClose: true)
            return
        }
        self.handshaken = true
        let snapshot = self.store.current
        let reply = ProtocolMessages.HelloReply(
            version: Frame.currentVersion,
            maximumFrameBytes: UInt32(clamping: self.configuration.maximumFrameBytes),
            serverID: self.configuration.serverID,
            loadedAtMilliseconds: snapshot?.loadedAtMilliseconds ?? 0
        )
        self.write(context: context, opcode: frame.opcode, status: .ok) { buffer, revision in
            buffer.writeFrame(opcode: frame.opcode, flags: .reply, requestID: frame.requestID, revision: revision) { reply.write(to: &$0) }
        }
        self.logger.debug("protocol handshake", metadata: ["client": "\(hello.clientName)", "peer": "\(context.remoteAddress?.description ?? "?")"])
    }

    // MARK: WATCH

    private func watch(context: ChannelHandlerContext) {
        guard self.watchToken == nil else { return }
        self.subscription &+= 1
        let subscription = self.subscription
        let allocator = context.channel.allocator
        let handler = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        self.watchToken = self.store.addObserver { snapshot in
            var buffer = allocator.buffer(capacity: 48)
            buffer.writeFrame(opcode: ProtocolOpcode.revisionChanged.rawValue, flags: .push, requestID: 0, revision: Revision(value: snapshot.revisionNumber)) {
                ProtocolResponder.revisionInfo(snapshot).write(to: &$0)
            }
            // Called on the reload thread, perhaps just as the connection unsubscribes: whether it still
            // wants the push is decided on its event loop, where UNWATCH is handled, so that no push follows
            // the UNWATCH reply. A push is one buffer, so it lands between replies, never inside one.
            handler.eventLoop.execute {
                let (handler, context) = handler.value
                guard handler.watchToken != nil, handler.subscription == subscription else { return }
                handler.metrics.bytesOut.increment(by: Int64(buffer.readableBytes))
                context.writeAndFlush(handler.wrapOutboundOut(buffer), promise: nil)
            }
        }
        self.metrics.watchers.increment()
    }

    private func unwatch() {
        guard let token = self.watchToken else { return }
        self.store.removeObserver(token)
        self.watchToken = nil
        self.metrics.watchers.decrement()
    }

    // MARK: Writing

    private func write(context: ChannelHandlerContext, opcode: UInt8, status: ProtocolStatus, _ body: (inout ByteBuffer, Revision) -> Void) {
        var buffer = self.takeOutput(context: context)
        let before = buffer.readableBytes
        body(&buffer, Revision(value: self.store.current?.revisionNumber ?? 0))
        self.pendingMetrics.count(slot: self.metrics.slot(opcode: opcode, status: status), bytesOut: buffer.readableBytes - before, flushingTo: self.metrics)
        self.output = buffer
    }

    private func reply(context: ChannelHandlerContext, frame: Frame, error: ProtocolError, thenClose: Bool = false) {
        self.write(context: context, opcode: frame.opcode, status: error.status) { buffer, revision in
            ProtocolResponder.writeError(error, opcode: frame.opcode, requestID: frame.requestID, revision: revision, into: &buffer)
        }
        if thenClose { self.closeAfterFlush(context: context, lingering: true) }
    }

    /// A connection-level error: an ERROR frame (request id 0), then close.
    private func fail(context: ChannelHandlerContext, _ error: ProtocolError, lingering: Bool = true) {
        guard !self.closing else { return }
        self.write(context: context, opcode: ProtocolOpcode.error.rawValue, status: error.status) { buffer, revision in
            ProtocolResponder.writeError(error, opcode: ProtocolOpcode.error.rawValue, requestID: 0, revision: revision, into: &buffer)
        }
        self.closeAfterFlush(context: context, lingering: lingering)
    }

    /// Sends what is queued, then closes; a peer that stops reading is cut off after a grace period.
    /// `lingering` (a close the client did not ask for, after an error reply): the write side first, and
    /// the connection when the client closes its side or after ``lingerPeriod``, so that a client still
    /// sending does not lose the error to a reset. Not for a connection over the cap (its descriptor goes
    /// back at once), a client that half-closed (it sends nothing more) or a graceful shutdown (which
    /// must not wait on clients).
    private func closeAfterFlush(context: ChannelHandlerContext, lingering: Bool) {
        guard !self.closing else { return }
        self.closing = true
        // No pushes behind the last replies: a client that stopped reading would hold them, and the
        // close after them, back.
        self.unwatch()
        // The batch's replies, then an empty write whose completion says that everything before it is out.
        self.flushOutput(context: context)
        let last = context.channel.allocator.buffer(capacity: 0)
        if lingering {
            context.writeAndFlushThenLingeringClose(last, gracePeriod: Self.closeGracePeriod, linger: Self.lingerPeriod)
        } else {
            context.writeAndFlushThenClose(last, gracePeriod: Self.closeGracePeriod)
        }
    }

    /// How long a client still sending after an error reply has to read it before the close.
    static let lingerPeriod: TimeAmount = .seconds(5)

    /// How long a closing connection may take to drain its replies to a slow reader.
    static let closeGracePeriod: TimeAmount = .seconds(5)

    // MARK: Backpressure

    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            self.readPending = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, !self.closing {
            // Frames held back while the replies before them drained (see answerFrames).
            self.answerFrames(context: context)
            self.endBatch(context: context)
        }
        if context.channel.isWritable, self.readPending {
            self.readPending = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }
}

@available(*, unavailable)
extension ProtocolConnectionHandler: Sendable {}

/// Metrics of the current read batch, added to the shared counters once per batch (each increment is an
/// atomic operation on a counter every connection shares).
private struct PendingMetrics {
    var bytesIn = 0
    var bytesOut = 0
    /// Consecutive frames with the same opcode and status: the common pipelined run of GETs.
    var slot = -1
    var frames = 0

    mutating func count(slot: Int, bytesOut: Int, flushingTo metrics: ProtocolMetrics) {
        if slot != self.slot {
            if self.frames > 0 { metrics.countFrames(slot: self.slot, self.frames) }
            self.slot = slot
            self.frames = 0
        }
        self.frames += 1
        self.bytesOut += bytesOut
    }

    mutating func flush(to metrics: ProtocolMetrics) {
        if self.frames > 0 { metrics.countFrames(slot: self.slot, self.frames) }
        if self.bytesIn > 0 { metrics.bytesIn.increment(by: Int64(self.bytesIn)) }
        if self.bytesOut > 0 { metrics.bytesOut.increment(by: Int64(self.bytesOut)) }
        self = PendingMetrics()
    }
}
