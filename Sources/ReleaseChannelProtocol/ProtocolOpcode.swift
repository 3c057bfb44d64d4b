/// Operation codes of protocol version 1 (docs/protocol.md §7).
public enum ProtocolOpcode: UInt8, Sendable, CaseIterable {
    /// Connection-level error, server to client only.
    case error = 0x00
    /// Handshake: offers protocol versions; the first frame of every connection (docs/protocol.md §7.2).
    case hello = 0x01
    /// Echoes a payload of 0–64 bytes: latency, liveness and keep-alive (§7.3).
    case ping = 0x02
    /// The release of one container on one channel (§7.4).
    case get = 0x03
    /// The releases of one container on all channels, in promotion order (§7.5).
    case getContainer = 0x04
    /// 1 to 256 (container, channel) lookups in one request, answered in request order (§7.6).
    case batchGet = 0x05
    /// The revision served, when it was loaded and how many releases and containers it holds (§7.7).
    case revision = 0x06
    /// The whole db as canonical db.json, gzip-compressed unless the server has just reloaded (§7.8).
    case snapshot = 0x07
    /// Subscribes the connection to a REVISION_CHANGED push after every snapshot swap (§7.9).
    case watch = 0x08
    /// Ends the connection's subscription; no push follows the reply (§7.10).
    case unwatch = 0x09
    /// Push after every snapshot swap, server to client only.
    case revisionChanged = 0x20

    /// Upper-case name as used in the specification.
    public var name: String {
        switch self {
        case .error: "ERROR"
        case .hello: "HELLO"
        case .ping: "PING"
        case .get: "GET"
        case .getContainer: "GET_CONTAINER"
        case .batchGet: "BATCH_GET"
        case .revision: "REVISION"
        case .snapshot: "SNAPSHOT"
        case .watch: "WATCH"
        case .unwatch: "UNWATCH"
        case .revisionChanged: "REVISION_CHANGED"
        }
    }
}
