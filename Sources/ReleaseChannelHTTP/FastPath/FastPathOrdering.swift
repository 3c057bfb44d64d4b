/// What the handlers of one HTTP connection need to know of the requests behind
/// ``RawReleaseLookupHandler``: how many of those it passed on are unanswered, to keep responses in
/// request order; how many the decoder has read whose response has not ended, for the idle timeout
/// (``HTTPIdleConnectionCloser``); and whether the bytes read so far end inside a request head, for
/// the request-head timeout (``HTTPRequestHeadTimeoutHandler``).
///
/// The raw handler answers a request only while ``outstanding`` is 0. ``FastPathOrderingHandler`` sees
/// every response end and counts both down; ``DecodedRequestCounter`` counts the requests the decoder
/// reads, and the parts that end a head or a request.
/// Every handler of a connection is on its event loop, so plain counters suffice.
final class FastPathOrdering {
    /// Requests passed on by the raw handler and not answered yet, counted before the decoder reads them.
    private(set) var outstanding = 0
    /// Requests the decoder has read (every one once the raw handler passes the bytes through) whose
    /// response has not ended: the router has work in hand on this connection.
    private(set) var inRouter = 0
    /// Whether the last read left the start of a request head without its end: kept by the raw handler,
    /// from its own scan while it reads the requests, from the decoder's parts once it passes bytes on.
    var readEndsInsideHead = false
    /// Whether the decoder is inside a request: it has read a head and not yet that request's end (a body).
    private(set) var decoderInsideRequest = false
    /// Whether the router has begun a response it has not ended: its head is written, its end not yet.
    private(set) var responding = false
    /// Whether the last read left a request incomplete: inside its head, or inside its body. The
    /// request-head timeout (``HTTPRequestHeadTimeoutHandler``) times both.
    var readEndsInsideRequest: Bool { self.readEndsInsideHead || self.decoderInsideRequest }
    /// Heads read to their end (the raw handler's scan) and heads and request ends the decoder has read:
    /// a head left open by a read that moved this is another head than the one open before it.
    private(set) var boundaries = 0

    func passedOn(requests count: Int) {
        self.outstanding += count
    }

    func decodedHead() {
        self.inRouter += 1
        self.decoderInsideRequest = true
        self.boundaries &+= 1
    }

    func decodedEnd() {
        self.decoderInsideRequest = false
        self.boundaries &+= 1
    }

    func scannedHead() {
        self.boundaries &+= 1
    }

    func startedResponse() {
        self.responding = true
    }

    func answered() {
        self.responding = false
        self.outstanding = max(0, self.outstanding - 1)
        self.inRouter = max(0, self.inRouter - 1)
    }
}

@available(*, unavailable)
extension FastPathOrdering: Sendable {}
