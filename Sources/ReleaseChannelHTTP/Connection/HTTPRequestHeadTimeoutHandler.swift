import Logging
import Metrics
import NIOCore
import ReleaseChannelTransportSupport

/// Answers `408 Request Timeout` and closes a connection whose client takes longer than the
/// request-head timeout to send a request head, as nginx's `client_header_timeout` does, or a request
/// body, as its `client_body_timeout` does.
///
/// The idle timeout alone cannot tell: every byte read resets it, so a client that sends a head a few
/// bytes at a time (slowloris) kept its connection, and a descriptor, for as long as it kept sending;
/// and it never closes a connection whose request the router has in hand, so a body that never
/// completes (`POST /v1/reload` with `Content-Length: 5` and 2 bytes sent) held its connection, and a
/// place under the connection cap, for good.
/// The clock of a head starts at the first read that leaves it incomplete (most heads arrive in one
/// read and never start it) and stops at the read that completes it; a body has a clock of its own,
/// started by the read that completes its head and leaves the body incomplete, stopped by the read
/// that completes it. Which reads end inside a head or a body, and whether it is the one open before,
/// the handlers behind this one say (``FastPathOrdering/readEndsInsideRequest``,
/// ``FastPathOrdering/boundaries``), from the raw handler's scan or the decoder's parts.
///
/// The 408 goes after every response to the requests before the late head or body, never into one:
/// while one is still being answered, the close waits for it. A body whose request has already been
/// answered (a route that does not read its body, a 401 before the body) gets no 408, which would be
/// a second response to one request: its connection is closed.
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
        guard self.ordering.readEndsInsideRequest else {
            self.deadline.take()?.cancel()
            return
        }
        // The same head or body as before still open keeps its clock; one started by this read gets its own.
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
            guard self.ordering.readEndsInsideRequest else { return }
            guard self.ordering.decoderInsideRequest else {
                // A head: every request before it must have been answered.
                guard self.ordering.outstanding == 0, self.ordering.inRouter == 0 else {
                    self.expire(context: context, in: Self.responseWait)
                    return
                }
                self.answerTimeout(context: context, part: "head")
                return
            }
            // A body: its request is the last one the decoder read, so the router has it and every
            // request before it in hand, or none of them once its response has ended.
            switch (self.ordering.inRouter, self.ordering.responding) {
            case (0, _):
                self.closeAnswered(context: context)
            case (1, false):
                self.answerTimeout(context: context, part: "body")
            default:
                self.expire(context: context, in: Self.responseWait)
            }
        }
    }

    private func answerTimeout(context: ChannelHandlerContext, part: String) {
        self.noteTimeout(context: context, of: "a request \(part)")
        ClosingErrorResponse(error: .requestTimeout(Self.describe(self.timeout), part: part)).send(context: context, serverName: self.serverName, lingering: true)
    }

    /// The request whose body is late has been answered: nothing is left to say, only to stop reading,
    /// once its response has left (an empty write completes after every write before it), with a
    /// lingering close: the client is still sending its body, and a full close would answer that with
    /// an RST that loses the response. A client that stopped taking that response is the idle timeout's
    /// to close (``HTTPIdleConnectionCloser``), once it also stops sending: each byte it sends resets that
    /// timeout, so one that trickles its body and reads nothing keeps the connection (not bounded yet).
    private func closeAnswered(context: ChannelHandlerContext) {
        self.noteTimeout(context: context, of: "an answered request's body")
        context.writeAndFlushThenLingeringClose(
            context.channel.allocator.buffer(capacity: 0),
            gracePeriod: nil,
            linger: ClosingErrorResponse.lingerPeriod
        )
    }

    /// The connection is timed out: no more reads are passed on, and it is counted and logged.
    private func noteTimeout(context: ChannelHandlerContext, of what: String) {
        self.timedOut = true
        self.timeouts.increment()
        self.logger.notice(
            "closing HTTP connection whose client did not complete \(what) within the timeout",
            metadata: ["remote": "\(context.channel.remoteDescription)", "timeout": "\(Self.describe(self.timeout))"]
        )
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
