import Synchronization

/// Whether the process wants new traffic: false once graceful shutdown has begun, so `/v1/ready` turns
/// 503 and load balancers drain this instance while in-flight requests finish.
public final class ReadinessState: Sendable {
    private let draining = Atomic<Bool>(false)

    public init() {}

    public var isDraining: Bool { self.draining.load(ordering: .relaxed) }

    public func beginDraining() { self.draining.store(true, ordering: .relaxed) }
}
