import Metrics
import ReleaseChannelProtocol

/// Metrics of the binary protocol. Counters are created once, up front, so the per-frame path only
/// increments (no registry lookup, no lock).
final class ProtocolMetrics: Sendable {
    private let frames: [Counter]  // index: opcode slot * status count + status
    private let otherFrames: Counter
    let bytesIn: Counter
    let bytesOut: Counter
    let connections: Gauge
    let watchers: Meter
    let rejectedConnections: Counter
    /// Connections closed by the idle timeout with replies their client had stopped taking.
    let stalledConnectionsClosed: Counter
    private static let opcodes = ProtocolOpcode.allCases
    private static let statusCount = ProtocolStatus.allDefined.count

    init(factory: any MetricsFactory) {
        var frames: [Counter] = []
        for opcode in Self.opcodes {
            for status in ProtocolStatus.allDefined {
                frames.append(
                    Counter(
                        label: "release_chan_tcp_frames_total",
                        dimensions: [("opcode", opcode.name), ("status", status.name)],
                        factory: factory
                    )
                )
            }
        }
        self.frames = frames
        self.otherFrames = Counter(label: "release_chan_tcp_frames_total", dimensions: [("opcode", "OTHER"), ("status", "OTHER")], factory: factory)
        self.bytesIn = Counter(label: "release_chan_tcp_received_bytes_total", factory: factory)
        self.bytesOut = Counter(label: "release_chan_tcp_sent_bytes_total", factory: factory)
        self.connections = Gauge(label: "release_chan_tcp_connections", factory: factory)
        self.watchers = Meter(label: "release_chan_tcp_watch_subscribers", factory: factory)
        self.rejectedConnections = Counter(label: "release_chan_tcp_rejected_connections_total", factory: factory)
        self.stalledConnectionsClosed = Counter(label: "release_chan_tcp_stalled_connections_closed_total", factory: factory)
    }

    /// Where the frames with this opcode and status are counted (see ``countFrames(slot:_:)``).
    func slot(opcode: UInt8, status: ProtocolStatus) -> Int {
        guard let index = Self.opcodes.firstIndex(where: { $0.rawValue == opcode }), Int(status.rawValue) < Self.statusCount else {
            return self.frames.count
        }
        return index * Self.statusCount + Int(status.rawValue)
    }

    /// Counts `count` answered frames of one slot.
    func countFrames(slot: Int, _ count: Int) {
        let counter = slot < self.frames.count ? self.frames[slot] : self.otherFrames
        counter.increment(by: Int64(count))
    }
}
