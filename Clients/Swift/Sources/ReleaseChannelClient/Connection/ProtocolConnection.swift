import NIOCore
import NIOPosix
import ReleaseChannelProtocol
import Synchronization

/// One handshaken connection to a server.
final class ProtocolConnection: Sendable {
    let channel: any Channel
    let endpoint: ReleaseChannelClientConfiguration.Endpoint
    let hello: ProtocolMessages.HelloReply
    /// The revision the server was serving at the handshake.
    let helloRevision: Revision
    private let handler: NIOLoopBound<ClientFrameHandler>
    private let snapshotsInFlight = Atomic<Int>(0)

    private init(
        channel: any Channel,
        endpoint: ReleaseChannelClientConfiguration.Endpoint,
        hello: ProtocolMessages.HelloReply,
        helloRevision: Revision,
        handler: NIOLoopBound<ClientFrameHandler>
    ) {
        self.channel = channel
        self.endpoint = endpoint
        self.hello = hello
        self.helloRevision = helloRevision
        self.handler = handler
    }

    /// Connects, performs the HELLO handshake and returns the ready connection, all within one
    /// `connectTimeout`. Cancelling the calling task closes the channel, so a connect to a host that does not
    /// answer ends when the client closes rather than when the timeout passes.
    static func connect(
        to endpoint: ReleaseChannelClientConfiguration.Endpoint,
        configuration: ReleaseChannelClientConfiguration,
        group: any EventLoopGroup,
        onPush: @escaping @Sendable (Frame) -> Void
    ) async throws -> ProtocolConnection {
        let deadline = ContinuousClock.now + configuration.connectTimeout
        let maximumFrame = configuration.maximumFrameBytes
        let maximumDecompressed = configuration.decompressedLimit
        // The channel exists (the initializer ran) before its connect completes: closing it fails the connect.
        let opened = Mutex<(channel: (any Channel)?, cancelled: Bool)>((nil, false))
        return try await withTaskCancellationHandler {
            let channel = try await ClientBootstrap(group: group)
                .connectTimeout(TimeAmount(configuration.connectTimeout))
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    let cancelled = opened.withLock { opened in
                        opened.channel = channel
                        return opened.cancelled
                    }
                    if cancelled { return channel.eventLoop.makeFailedFuture(CancellationError()) }
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maximumFrameBytes: maximumFrame)))
                        try channel.pipeline.syncOperations.addHandler(ClientFrameHandler(maximumDecompressedBytes: maximumDecompressed, onPush: onPush))
                    }
                }
                .connect(host: endpoint.host, port: endpoint.port)
                .get()
            let handler = try await channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: ClientFrameHandler.self), eventLoop: channel.eventLoop)
            }.get()
            do {
                let remaining = deadline - ContinuousClock.now
                guard remaining > .zero else { throw ReleaseChannelClientError.timeout }
                var body = ByteBuffer()
                let name = Self.handshakeName(configuration.clientName)
                ProtocolMessages.Hello(versions: [Frame.currentVersion], clientName: name).write(to: &body)
                let reply: Frame
                do {
                    reply = try await Self.request(channel: channel, handler: handler, opcode: .hello, body: body, timeout: remaining)
                } catch let lost as ConnectionLost {
                    throw lost.reason
                }
                var replyBody = reply.body
                let hello: ProtocolMessages.HelloReply
                do throws(ProtocolError) {
                    hello = try ProtocolMessages.HelloReply.read(from: &replyBody)
                } catch {
                    throw ReleaseChannelClientError.protocolViolation("malformed HELLO reply: \(error.message)")
                }
                guard hello.version == Frame.currentVersion else {
                    throw ReleaseChannelClientError.protocolViolation("server chose version \(hello.version), which was not offered")
                }
                return ProtocolConnection(channel: channel, endpoint: endpoint, hello: hello, helloRevision: reply.revision, handler: handler)
            } catch {
                try? await channel.close()
                throw error
            }
        } onCancel: {
            let channel = opened.withLock { opened in
                opened.cancelled = true
                return opened.channel
            }
            channel?.close(promise: nil)
        }
    }

    /// The client name cut to the protocol's 64 bytes at a character boundary: a longer name would make every
    /// handshake fail, and a cut through a character would decode as U+FFFD, three bytes that can push the
    /// name over the limit again.
    static func handshakeName(_ name: String) -> String {
        var cut = String.UnicodeScalarView()
        var bytes = 0
        for scalar in name.unicodeScalars {
            bytes += UTF8.width(scalar)
            guard bytes <= ProtocolMessages.maximumClientNameBytes else { break }
            cut.append(scalar)
        }
        return String(cut)
    }

    var isActive: Bool { self.channel.isActive }

    /// Whether a SNAPSHOT reply is on its way: a request sent now waits behind it.
    var isSendingSnapshot: Bool { self.snapshotsInFlight.load(ordering: .relaxed) > 0 }

    /// Runs a SNAPSHOT request, counted for ``isSendingSnapshot``.
    func countingSnapshot<Result>(_ body: () async throws -> Result) async rethrows -> Result {
        self.snapshotsInFlight.add(1, ordering: .relaxed)
        defer { self.snapshotsInFlight.subtract(1, ordering: .relaxed) }
        return try await body()
    }

    /// Sends one request and waits for its reply; a non-OK status is thrown as a server error, and a
    /// connection that ends before the reply as ``ConnectionLost``.
    ///
    /// A request larger than the server's `max_frame` is refused here: the server would answer it with
    /// FRAME_TOO_LARGE and close the connection, failing every other request in flight on it.
    func request(_ opcode: ProtocolOpcode, body: ByteBuffer = ByteBuffer(), timeout: Duration) async throws -> Frame {
        let size = Frame.headerSize + body.readableBytes
        guard size <= Int(self.hello.maximumFrameBytes) else {
            throw ReleaseChannelClientError.invalidRequest(
                "a \(opcode.name) request of \(size) bytes is larger than the server's maximum frame (\(self.hello.maximumFrameBytes) bytes)"
            )
        }
        return try await Self.request(channel: self.channel, handler: self.handler, opcode: opcode, body: body, timeout: timeout)
    }

    private static func request(
        channel: any Channel,
        handler: NIOLoopBound<ClientFrameHandler>,
        opcode: ProtocolOpcode,
        body: ByteBuffer,
        timeout: Duration
    ) async throws -> Frame {
        let promise = channel.eventLoop.makePromise(of: Frame.self)
        channel.eventLoop.execute {
            handler.value.send(opcode: opcode.rawValue, body: body, timeout: TimeAmount(timeout), promise: promise)
        }
        // The handler has checked the reply's version, flags and opcode (a mismatch closes the connection).
        let frame = try await promise.futureResult.get()
        guard frame.status == .ok || frame.status == .notFound else {
            var body = frame.body
            throw ReleaseChannelClientError.server(status: frame.status, message: ProtocolMessages.readMessage(from: &body))
        }
        return frame
    }

    /// Waits until the connection is closed (by either side).
    func closed() async {
        try? await self.channel.closeFuture.get()
    }

    func close() {
        self.channel.close(promise: nil)
    }
}
