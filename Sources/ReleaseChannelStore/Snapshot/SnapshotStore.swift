import NIOPosix
import Synchronization

/// Holds the snapshot being served and swaps it atomically.
///
/// Readers do not take a lock per request: each thread caches the snapshot it last saw together with a
/// generation number, and only when the atomic generation has moved on does it take the lock once to
/// fetch the new snapshot. A swap is one pointer store under the lock plus a generation increment, so a
/// reader sees either the old snapshot or the new one, never a mix, and never waits for a reload.
///
/// The per-thread cache holds its snapshot weakly: a replaced snapshot is freed as soon as the requests
/// using it finish, even on a thread that never reads again (with strong caches, idle threads kept
/// replaced snapshots alive and RSS grew by a snapshot per reload). The weak reference is to a holder
/// the store keeps with the snapshot, not to the snapshot: an object that has ever been weakly
/// referenced takes Swift's slow reference-counting path for the rest of its life, and the protocol
/// retains the snapshot per frame (5% of a pipelined load's profile was in `incrementSlow` and
/// `doDecrementSlow`).
public final class SnapshotStore: Sendable {
    private final class Holder: Sendable {
        let snapshot: Snapshot
        init(_ snapshot: Snapshot) { self.snapshot = snapshot }
    }

    private final class CachedSnapshot: Sendable {
        let generation: Int
        weak let holder: Holder?

        init(generation: Int, holder: Holder) {
            self.generation = generation
            self.holder = holder
        }
    }

    private let generation = Atomic<Int>(0)
    private let state = Mutex<(generation: Int, holder: Holder?)>((0, nil))
    private let cache = ThreadSpecificVariable<CachedSnapshot>()
    private let observers = Mutex<(next: Int, callbacks: [Int: @Sendable (Snapshot) -> Void])>((0, [:]))

    /// Identifies an observer for ``removeObserver(_:)``.
    public struct ObserverToken: Sendable, Hashable {
        fileprivate let id: Int
    }

    public init() {}

    /// The snapshot being served, or nil before the first successful load.
    public var current: Snapshot? {
        let generation = self.generation.load(ordering: .acquiring)
        if let cached = self.cachedValue(), cached.generation == generation, let holder = cached.holder {
            return holder.snapshot
        }
        let (latestGeneration, holder) = self.state.withLock { ($0.generation, $0.holder) }
        if let holder {
            self.setCachedValue(CachedSnapshot(generation: latestGeneration, holder: holder))
        }
        return holder?.snapshot
    }

    /// The snapshot being served, read under the lock without touching this thread's cache: for readers
    /// off the request path (the reload thread), which would otherwise keep a replaced snapshot alive.
    public var currentUncached: Snapshot? {
        self.state.withLock { $0.holder?.snapshot }
    }

    /// Makes `snapshot` the one served from now on and returns the one it replaced.
    @discardableResult
    public func swap(_ snapshot: Snapshot) -> Snapshot? {
        let previous = self.state.withLock { state in
            let previous = state.holder?.snapshot
            state.holder = Holder(snapshot)
            state.generation += 1
            self.generation.store(state.generation, ordering: .releasing)
            return previous
        }
        let callbacks = self.observers.withLock { Array($0.callbacks.values) }
        for callback in callbacks { callback(snapshot) }
        return previous
    }

    /// Calls `callback` with every snapshot swapped in from now on (WATCH subscriptions). It runs on the
    /// reloading thread and must only hand the work off (e.g. to an event loop).
    public func addObserver(_ callback: @escaping @Sendable (Snapshot) -> Void) -> ObserverToken {
        self.observers.withLock { observers in
            let id = observers.next
            observers.next += 1
            observers.callbacks[id] = callback
            return ObserverToken(id: id)
        }
    }

    public func removeObserver(_ token: ObserverToken) {
        _ = self.observers.withLock { $0.callbacks.removeValue(forKey: token.id) }
    }

    // `ThreadSpecificVariable.currentValue` is `noasync`; these synchronous wrappers are the only access,
    // and they never hold the value across a suspension point.
    private func cachedValue() -> CachedSnapshot? { self.cache.currentValue }
    private func setCachedValue(_ value: CachedSnapshot) { self.cache.currentValue = value }
}
