public import Metrics
import Synchronization

/// Counts open connections so the one over the cap can be turned away, and keeps the connections gauge
/// at that count.
///
/// Connections open and close on every event loop; the gauge is set inside the same lock as the count,
/// so the last value it was set to is the count (set after an update, a count read on one loop could
/// land after a newer one from another and leave the gauge off until the next connect or close).
/// Taken once per connection, never per frame.
public final class ConnectionLimiter: Sendable {
    private let open = Mutex<Int>(0)
    private let gauge: Gauge
    /// The most connections open at once.
    public let maximum: Int

    /// - Parameters:
    ///   - maximum: The most connections open at once.
    ///   - gauge: Set to the count of open connections at every change.
    public init(maximum: Int, gauge: Gauge) {
        self.maximum = maximum
        self.gauge = gauge
    }

    /// Registers a connection; false when that would exceed the cap (the count is not kept then).
    public func acquire() -> Bool {
        self.open.withLock { open in
            guard open < self.maximum else { return false }
            open += 1
            self.gauge.record(open)
            return true
        }
    }

    /// Unregisters a connection ``acquire()`` registered.
    public func release() {
        self.open.withLock { open in
            open -= 1
            self.gauge.record(open)
        }
    }

    /// The connections open now.
    public var current: Int { self.open.withLock { $0 } }
}
