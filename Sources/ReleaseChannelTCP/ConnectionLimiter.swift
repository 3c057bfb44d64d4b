import Synchronization

/// Counts open connections so the one over the cap can be turned away.
final class ConnectionLimiter: Sendable {
    private let open = Atomic<Int>(0)
    let maximum: Int

    init(maximum: Int) {
        self.maximum = maximum
    }

    /// Registers a connection; false when that would exceed the cap (the count is not kept then).
    func acquire() -> Bool {
        let count = self.open.add(1, ordering: .relaxed).newValue
        guard count <= self.maximum else {
            self.open.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func release() {
        self.open.subtract(1, ordering: .relaxed)
    }

    var current: Int { self.open.load(ordering: .relaxed) }
}
