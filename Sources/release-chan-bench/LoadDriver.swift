import Histogram
import NIOCore
import Synchronization
import ReleaseChannelModel

/// The timing logic shared by the TCP and HTTP load connections: when to send, what latency to record.
///
/// Closed loop (no rate): keeps `pipeline` requests outstanding, sending the next one as each reply
/// arrives. Open loop (a rate): sends on a fixed schedule whatever the replies do, and measures each
/// latency from the request's *intended* send time, so a stalled server shows up in the percentiles
/// instead of silently slowing the load down (coordinated omission).
struct LoadDriver {
    let sampler: KeySampler
    var random: SplitMix64
    let pipeline: Int
    let interval: TimeAmount?
    let measureFrom: NIODeadline
    let stopAt: NIODeadline
    let counters: LiveCounters
    var result = ConnectionResult()
    private var intendedStarts = CircularBuffer<UInt64>(initialCapacity: 64)

    init(sampler: KeySampler, seed: UInt64, pipeline: Int, interval: TimeAmount?, measureFrom: NIODeadline, stopAt: NIODeadline, counters: LiveCounters) {
        self.sampler = sampler
        self.random = SplitMix64(seed: seed)
        self.pipeline = pipeline
        self.interval = interval
        self.measureFrom = measureFrom
        self.stopAt = stopAt
        self.counters = counters
    }

    var outstanding: Int { self.intendedStarts.count }
    var isClosedLoop: Bool { self.interval == nil }

    /// The index of the next key in the sampler, remembering when its request was (meant to be) sent.
    mutating func nextRequest(intendedStart: NIODeadline = .now()) -> Int {
        self.intendedStarts.append(intendedStart.uptimeNanoseconds)
        return self.sampler.next(&self.random)
    }

    /// Records a reply received at `now`; returns whether a closed loop should send another request.
    mutating func reply(ok: Bool, at now: NIODeadline) -> Bool {
        guard let start = self.intendedStarts.popFirst() else { return false }
        if start >= self.measureFrom.uptimeNanoseconds, now <= self.stopAt {
            if ok {
                _ = self.result.latency.record(now.uptimeNanoseconds &- start)
                self.result.completed += 1
                self.counters.completed.add(1, ordering: .relaxed)
            } else {
                self.result.errors += 1
                self.counters.errors.add(1, ordering: .relaxed)
            }
        }
        return self.isClosedLoop && now < self.stopAt
    }

    var isFinished: Bool { NIODeadline.now() >= self.stopAt && self.outstanding == 0 }
}
