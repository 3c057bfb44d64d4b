/// What ``RawReleaseLookupHandler`` needs to know to keep a connection's responses in request order:
/// how many of the requests it passed on to NIO's decoder have not been answered yet.
///
/// The raw handler answers a request only while this is 0; ``FastPathOrderingHandler``, which sees
/// every response to a passed-on request end, counts them down.
/// Both handlers are on the connection's event loop, so a plain counter suffices.
final class FastPathOrdering {
    private(set) var outstanding = 0

    func passedOn(requests count: Int) {
        self.outstanding += count
    }

    func answered() {
        self.outstanding = max(0, self.outstanding - 1)
    }
}

@available(*, unavailable)
extension FastPathOrdering: Sendable {}
