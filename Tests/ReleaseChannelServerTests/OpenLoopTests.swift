import NIOCore
import Testing

@testable import release_chan_bench

/// Where the open loop's ticks fall (the load generator's runs at a fixed rate against the real server
/// are in LoadGeneratorTests).
@Suite struct OpenLoopTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    /// Together the connections send one request every 1/rate seconds: their grids are offset by equal
    /// parts of one interval, not in phase.
    @Test func connectionsSpreadTheirTicksOverOneInterval() {
        let loops = (0..<4).map { LoadDriver.OpenLoop(rate: 1000, connections: 4, index: $0, start: self.start) }
        #expect(loops.allSatisfy { $0.interval == .milliseconds(4) })
        #expect(loops.map { ($0.origin - self.start).nanoseconds } == [0, 1_000_000, 2_000_000, 3_000_000])
        let ticks = loops.flatMap { loop in (0..<3).map { (loop.origin + .nanoseconds($0 * loop.interval.nanoseconds) - self.start).nanoseconds } }
        #expect(ticks.sorted() == (0..<12).map { Int64($0) * 1_000_000 })
    }

    /// A connection that comes up after its grid began joins it at its next tick.
    @Test func aLateConnectionJoinsItsGrid() {
        let loop = LoadDriver.OpenLoop(rate: 200, connections: 2, index: 1, start: self.start)
        #expect(loop.interval == .milliseconds(10))
        #expect(loop.firstTick(notBefore: self.start) == self.start + .milliseconds(5))
        #expect(loop.firstTick(notBefore: self.start + .milliseconds(5)) == self.start + .milliseconds(5))
        #expect(loop.firstTick(notBefore: self.start + .nanoseconds(5_000_001)) == self.start + .milliseconds(15))
        #expect(loop.firstTick(notBefore: self.start + .milliseconds(36)) == self.start + .milliseconds(45))
    }

    /// A rate above one request per nanosecond per connection still ticks.
    @Test func anExtremeRateKeepsAPositiveInterval() {
        let loop = LoadDriver.OpenLoop(rate: 1e12, connections: 1, index: 0, start: self.start)
        #expect(loop.interval == .nanoseconds(1))
    }
}
