/// What the handlers of one HTTP connection need to know of the requests behind
/// ``RawReleaseLookupHandler``: how many of those it passed on are unanswered, to keep responses in
/// request order, and how many the decoder has read whose response has not ended, for the idle timeout
/// (``HTTPIdleConnectionCloser``).
///
/// The raw handler answers a request only while ``outstanding`` is 0. ``FastPathOrderingHandler`` sees
/// every response end and counts both down; ``DecodedRequestCounter`` counts the requests the decoder
/// reads.
/// Every handler of a connection is on its event loop, so plain counters suffice.
final class FastPathOrdering {
    /// Requests passed on by the raw handler and not answered yet, counted before the decoder reads them.
    private(set) var outstanding = 0
    /// Requests the decoder has read (every one once the raw handler passes the bytes through) whose
    /// response has not ended: the router has work in hand on this connection.
    private(set) var inRouter = 0

    func passedOn(requests count: Int) {
        self.outstanding += count
    }

    func decoded() {
        self.inRouter += 1
    }

    func answered() {
        self.outstanding = max(0, self.outstanding - 1)
        self.inRouter = max(0, self.inRouter - 1)
    }
}

@available(*, unavailable)
extension FastPathOrdering: Sendable {}
