import ReleaseChannelTestSupport
import ReleaseChannelModel
import Testing

@testable import ReleaseChannelStore

@Suite struct SnapshotStoreTests {
    func snapshot(tag: String) -> Snapshot {
        let database = Fixtures.database(containers: 2, tag: tag)
        return SnapshotBuilder.build(database: database, canonicalBytes: CanonicalEncoder.encode(database), loadedAt: 0)
    }

    @Test func servesNothingBeforeTheFirstSwap() {
        #expect(SnapshotStore().current == nil)
    }

    @Test func swapIsVisibleToReadersThatCachedTheOldSnapshot() {
        let store = SnapshotStore()
        let first = self.snapshot(tag: "a")
        let second = self.snapshot(tag: "b")
        #expect(store.swap(first) == nil)
        #expect(store.current === first)
        #expect(store.current === first)
        #expect(store.swap(second) === first)
        #expect(store.current === second)
    }

    /// A reader's per-thread cache must not keep a replaced snapshot alive: a thread that stops reading
    /// would otherwise hold one snapshot per reload.
    @Test func aReplacedSnapshotIsFreedThoughAReaderCachedIt() {
        let store = SnapshotStore()
        weak var first: Snapshot?
        do {
            let snapshot = self.snapshot(tag: "a")
            first = snapshot
            store.swap(snapshot)
        }
        // This thread now caches the first snapshot.
        #expect(store.current?.revision == first?.revision)
        #expect(first != nil)
        store.swap(self.snapshot(tag: "b"))
        #expect(first == nil)
        #expect(store.current != nil)
    }

    @Test func concurrentReadersOnlyEverSeeWholeSnapshots() async {
        let store = SnapshotStore()
        let snapshots = (0..<8).map { self.snapshot(tag: "t\($0)") }
        let valid = Set(snapshots.map(\.revision))
        store.swap(snapshots[0])
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for round in 0..<400 { store.swap(snapshots[round % snapshots.count]) }
                return true
            }
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<20_000 {
                        guard let current = store.current, valid.contains(current.revision),
                            let body = current.release(container: "app-1", channel: "dev")?.image,
                            body.hasPrefix("ghcr.io/acme/app-1:")
                        else { return false }
                    }
                    return true
                }
            }
            for await result in group { #expect(result) }
        }
    }
}
