import Logging
import Metrics
import NIOCore

/// Answers `408 Request Timeout` and closes a connection whose client takes longer than the
/// request-head timeout to send a request head, as nginx's `client_header_timeout` does.
///
/// The idle timeout alone cannot tell: every byte read resets it, so a client that sends a head a few
/// bytes at a time (slowloris) kept its connection, and a descriptor, for as long as it kept sending.
/// The clock of a head starts at the first read that leaves it incomplete (most heads arrive in one
/// read and never start it) and stops at the read that completes it; which reads end inside a head,
/// and whether it is the head open before, the handlers behind this one say
/// (``FastPathOrdering/readEndsInsideHead``, ``FastPathOrdering/boundaries``), from the raw handler's
/// scan or the decoder's parts. Bodies are not timed here (no route needs one; the idle timeout covers a
/// client that stops sending one).
///
/// The 408 goes after every response to the requests before the late head, never into one: while one
/// is still being answered, the close waits for it.
final class HTTPRequestHeadTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let ordering: FastPathOrdering
    private let timeout: TimeAmount
    private let timeouts: Counter
    private let serverName: String
    private let logger: Logger
    private var deadline: Scheduled<Void>?
    /// Set once the 408 is written: what the client sends after it is not read as requests.
    private var timedOut = false

    init(ordering: FastPathOrdering, timeout: TimeAmount, timeouts: Counter, serverName: String, logger: Logger) {
        self.ordering = ordering
        self.timeout = timeout
        self.timeouts = timeouts
        self.serverName = serverName
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.timedOut else { return }
        let boundaries = self.ordering.boundaries
        context.fireChannelRead(data)
        guard self.ordering.readEndsInsideHead else {
            self.deadline.take()?.cancel()
            return
        }
        // The same head as before still open keeps its clock; a head started by this read gets its own.
        if self.deadline == nil || self.ordering.boundaries != boundaries {
            self.deadline.take()?.cancel()
            self.expire(context: context, in: self.timeout)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.deadline.take()?.cancel()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.deadline.take()?.cancel()
    }

    private func expire(context: ChannelHandlerContext, in delay: TimeAmount) {
        self.deadline = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
            self.deadline = nil
            guard self.ordering.readEndsInsideHead else { return }
            guard self.ordering.outstanding == 0, self.ordering.inRouter == 0 else {
                self.expire(context: context, in: Self.responseWait)
                return
            }
            self.answerTimeout(context: context)
        }
    }

    private func answerTimeout(context: ChannelHandlerContext) {
        self.timedOut = true
        self.timeouts.increment()
        self.logger.notice(
            "closing HTTP connection whose client did not complete a request head within the timeout",
            metadata: ["remote": "\(context.channel.remoteDescription)", "timeout": "\(Self.describe(self.timeout))"]
        )
        ClosingErrorResponse(error: .requestTimeout(Self.describe(self.timeout))).send(context: context, serverName: self.serverName)
    }

    /// How often a timed-out head checks again whether the responses before it have been written.
    static let responseWait: TimeAmount = .milliseconds(100)

    /// `20s`, `1500ms`: as the flag is written.
    static func describe(_ amount: TimeAmount) -> String {
        let milliseconds = amount.nanoseconds / 1_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms"
    }
}

@available(*, unavailable)
extension HTTPRequestHeadTimeoutHandler: Sendable {}
