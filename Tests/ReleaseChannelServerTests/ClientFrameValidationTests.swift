import NIOCore
import NIOPosix
import ReleaseChannelClient
import ReleaseChannelProtocol
import Testing

/// The SDK against a peer that completes the handshake and then answers a GET with a frame our server
/// never sends (the checks of docs/protocol.md §11.3), or not at all (the request timeout).
@Suite struct ClientFrameValidationTests {
    /// How the peer answers a GET: version, opcode and flags of the reply.
    struct Reply: Sendable, CustomStringConvertible {
        var version: UInt8 = Frame.currentVersion
        var opcode: ProtocolOpcode = .get
        var flags: FrameFlags = .reply
        /// No reply at all.
        var silent = false
        var description: String { "version \(self.version), opcode \(self.opcode.name), flags \(self.flags.rawValue)" }
    }

    /// How long a test waits for the handshake or a reply that is sure to come: long, because the suite
    /// runs in parallel on two cores and a busy concurrency pool can hold a connection back for seconds.
    static let patience: Duration = .seconds(60)

    static func configuration(port: Int) -> ReleaseChannelClientConfiguration {
        var configuration = ReleaseChannelClientConfiguration(endpoints: [.init(host: "127.0.0.1", port: port)])
        configuration.connectTimeout = Self.patience
        configuration.requestTimeout = Self.patience
        return configuration
    }

    @Test(arguments: [
        Reply(version: 2),
        Reply(flags: [.reply, FrameFlags(rawValue: 0x08)]),
        Reply(flags: [.reply, .push]),
        Reply(opcode: .getContainer),
    ])
    func aMalformedReplyIsAProtocolViolation(reply: Reply) async throws {
        try await ScriptedPeer.with(reply: reply) { port in
            var configuration = Self.configuration(port: port)
            configuration.reconnectInitialDelay = .seconds(5)
            try await ReleaseChannelClient.withClient(configuration: configuration) { client in
                try await client.waitUntilReady(timeout: Self.patience)
                do {
                    _ = try await client.release(container: "my-app", channel: "dev")
                    Issue.record("a reply with \(reply) was accepted")
                } catch let error as ReleaseChannelClientError {
                    guard case .protocolViolation = error else {
                        Issue.record("expected a protocol violation, got \(error)")
                        return
                    }
                }
            }
        }
    }

    @Test func aCallWithoutReplyTimesOut() async throws {
        try await ScriptedPeer.with(reply: Reply(silent: true)) { port in
            var configuration = Self.configuration(port: port)
            configuration.requestTimeout = .milliseconds(300)
            try await ReleaseChannelClient.withClient(configuration: configuration) { client in
                // Connected first, so the 300 ms run out waiting for the reply, not for the handshake.
                try await client.waitUntilReady(timeout: Self.patience)
                await #expect(throws: ReleaseChannelClientError.timeout) {
                    _ = try await client.release(container: "my-app", channel: "dev")
                }
            }
        }
    }

    @Test func aWellFormedReplyFromThePeerIsAccepted() async throws {
        // The peer itself is right when it answers correctly, so the failures above are the checks'.
        try await ScriptedPeer.with(reply: Reply()) { port in
            try await ReleaseChannelClient.withClient(configuration: Self.configuration(port: port)) { client in
                try await client.waitUntilReady(timeout: Self.patience)
                let release = try await client.release(container: "my-app", channel: "dev")
                #expect(release == ScriptedPeer.release)
            }
        }
    }
}

/// Completes the handshake like the server, then answers every GET with `reply`'s header around a valid
/// release record, and any other request with a well-formed empty reply.
private final class ScriptedPeer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let release = ChannelRelease(container: "my-app", channel: "dev", image: "ghcr.io/acme/my-app:v1", digest: nil, updatedAt: "2026-11-26T12:00:00Z")

    let reply: ClientFrameValidationTests.Reply
    private var buffered = ByteBuffer()
    private var decoder = FrameDecoder(maximumFrameBytes: 1 << 20)

    init(reply: ClientFrameValidationTests.Reply) {
        self.reply = reply
    }

    /// Runs `body` with the port of a peer listening on 127.0.0.1, and stops the peer after it.
    static func with(reply: ClientFrameValidationTests.Reply, _ body: (Int) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ScriptedPeer(reply: reply)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        do {
            try await body(channel.localAddress?.port ?? 0)
        } catch {
            try? await channel.close()
            try? await group.shutdownGracefully()
            throw error
        }
        try await channel.close()
        try await group.shutdownGracefully()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = self.unwrapInboundIn(data)
        self.buffered.writeBuffer(&input)
        var frames: [Frame] = []
        while let frame = try? self.decoder.decode(buffer: &self.buffered) { frames.append(frame) }
        for frame in frames {
            var out = context.channel.allocator.buffer(capacity: 256)
            if frame.opcode == ProtocolOpcode.hello.rawValue {
                out.writeFrame(opcode: frame.opcode, flags: .reply, requestID: frame.requestID, revision: Revision(value: 1)) {
                    ProtocolMessages.HelloReply(version: Frame.currentVersion, maximumFrameBytes: 1 << 20, serverID: "peer", loadedAtMilliseconds: 0).write(to: &$0)
                }
            } else if frame.opcode != ProtocolOpcode.get.rawValue {
                // WATCH (which the client sends on connecting) and anything else: a well-formed empty reply.
                out.writeFrame(opcode: frame.opcode, flags: .reply, requestID: frame.requestID, revision: Revision(value: 1)) { _ in }
            } else if self.reply.silent {
                continue
            } else {
                out.writeFrame(
                    opcode: self.reply.opcode.rawValue,
                    flags: self.reply.flags,
                    requestID: frame.requestID,
                    revision: Revision(value: 1),
                    version: self.reply.version
                ) { Self.release.write(to: &$0) }
            }
            context.writeAndFlush(self.wrapOutboundOut(out), promise: nil)
        }
    }
}
