import NIOCore
import ReleaseChannelProtocol

/// A request that was sent and never answered, because its connection ended: version 1 requests have no
/// side effects, so it may go again on another connection (docs/protocol.md §13.2). `reason` is what the
/// caller sees if it does not.
struct ConnectionLost: Error {
    let reason: ReleaseChannelClientError
}

/// Matches replies to requests by request id on one connection and hands pushes to a callback.
/// Checks every frame as docs/protocol.md §11.3 requires (version, flags, a reply's opcode); a violation
/// fails every outstanding request and closes the connection. Runs on the connection's event loop only.
final class ClientFrameHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        let opcode: UInt8
        let promise: EventLoopPromise<Frame>
        let timeout: Scheduled<Void>?
    }

    private var nextRequestID: UInt32 = 1
    private var pending: [UInt32: Pending] = [:]
    private var context: ChannelHandlerContext?
    private var closedError: ReleaseChannelClientError?
    private let onPush: @Sendable (Frame) -> Void
    private let maximumDecompressedBytes: Int

    init(maximumDecompressedBytes: Int, onPush: @escaping @Sendable (Frame) -> Void) {
        self.maximumDecompressedBytes = maximumDecompressedBytes
        self.onPush = onPush
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.failAll(.connectionClosed)
        self.context = nil
    }

    /// Sends a request; the promise completes with its reply, or fails on timeout or close.
    func send(opcode: UInt8, body: ByteBuffer, timeout: TimeAmount, promise: EventLoopPromise<Frame>) {
        guard let context, self.closedError == nil else {
            promise.fail(ConnectionLost(reason: self.closedError ?? .connectionClosed))
            return
        }
        let id = self.nextRequestID
        self.nextRequestID = self.nextRequestID == UInt32.max ? 1 : self.nextRequestID + 1
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let scheduled = context.eventLoop.scheduleTask(in: timeout) { () -> Void in
            loopBound.value.pending.removeValue(forKey: id)?.promise.fail(ReleaseChannelClientError.timeout)
        }
        self.pending[id] = Pending(opcode: opcode, promise: promise, timeout: scheduled)
        var buffer = context.channel.allocator.buffer(capacity: Frame.headerSize + body.readableBytes)
        buffer.writeFrame(opcode: opcode, flags: [], requestID: id, revision: .none) { $0.writeImmutableBuffer(body) }
        context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = self.unwrapInboundIn(data)
        if let violation = Self.violation(in: frame) {
            self.violated(violation, context: context)
            return
        }
        if frame.flags.contains(.push) {
            // Decided by the flag, whatever the opcode (§4); pushes are small, so this stays on the event loop.
            if frame.flags.contains(.compressed) {
                do {
                    frame.body = try GzipBody.decode(frame.body, maximumBytes: self.maximumDecompressedBytes)
                    frame.flags.remove(.compressed)
                } catch {
                    self.violated("push with opcode \(Self.hex(frame.opcode)) has a COMPRESSED body that does not decode: \(error)", context: context)
                    return
                }
            }
            // A push the client knows must decode exactly (§11.3); one it does not know is ignored.
            if frame.opcode == ProtocolOpcode.revisionChanged.rawValue {
                var body = frame.body
                guard (try? ProtocolMessages.RevisionInfo.read(from: &body)) != nil, body.readableBytes == 0 else {
                    self.violated("REVISION_CHANGED push with a malformed body of \(frame.body.readableBytes) bytes", context: context)
                    return
                }
            }
            self.onPush(frame)
            return
        }
        if frame.opcode == ProtocolOpcode.error.rawValue, frame.requestID == 0 {
            // A connection-level error ends the connection (§5): every outstanding request fails with it, and
            // the client closes its side at once, so that no new request is sent on it while the server's close
            // is on its way.
            var body = frame.body
            self.failAll(.server(status: frame.status, message: ProtocolMessages.readMessage(from: &body)))
            context.close(promise: nil)
            return
        }
        guard frame.flags.contains(.reply) else {
            self.violated("frame with opcode \(Self.hex(frame.opcode)) has neither REPLY nor PUSH set", context: context)
            return
        }
        guard let entry = self.pending.removeValue(forKey: frame.requestID) else {
            // A reply to a request that already timed out: dropped, as the protocol prescribes.
            return
        }
        entry.timeout?.cancel()
        guard frame.opcode == entry.opcode else {
            let message = "reply to request \(frame.requestID) has opcode \(Self.hex(frame.opcode)), the request had \(Self.hex(entry.opcode))"
            entry.promise.fail(ReleaseChannelClientError.protocolViolation(message))
            self.violated(message, context: context)
            return
        }
        entry.promise.succeed(frame)
    }

    /// What is wrong with a frame whatever it answers: its version, or its flags.
    static func violation(in frame: Frame) -> String? {
        if frame.version != Frame.currentVersion {
            return "frame version \(frame.version), but version \(Frame.currentVersion) was negotiated"
        }
        if !frame.flags.subtracting(.known).isEmpty {
            return "reserved flag bits set: flags \(Self.hex(frame.flags.rawValue))"
        }
        if frame.flags.contains([.reply, .push]) {
            return "REPLY and PUSH both set: flags \(Self.hex(frame.flags.rawValue))"
        }
        return nil
    }

    private func violated(_ message: String, context: ChannelHandlerContext) {
        self.failAll(.protocolViolation(message))
        context.close(promise: nil)
    }

    private static func hex(_ byte: UInt8) -> String {
        "0x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.failAll(self.closedError ?? .connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let failure: ReleaseChannelClientError
        if let error = error as? ProtocolError {
            failure = .protocolViolation(error.message)
        } else {
            failure = .connectionClosed
        }
        self.failAll(failure)
        context.close(promise: nil)
    }

    private func failAll(_ error: ReleaseChannelClientError) {
        if self.closedError == nil { self.closedError = error }
        let pending = self.pending
        self.pending = [:]
        for entry in pending.values {
            entry.timeout?.cancel()
            entry.promise.fail(ConnectionLost(reason: error))
        }
    }
}

@available(*, unavailable)
extension ClientFrameHandler: Sendable {}
