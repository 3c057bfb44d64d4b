/// Operation codes of protocol version 1 (docs/protocol.md §7).
public enum ProtocolOpcode: UInt8, Sendable, CaseIterable {
    /// Connection-level error, server to client only.
    case error = 0x00
    case hello = 0x01
    case ping = 0x02
    case get = 0x03
    case getContainer = 0x04
    case batchGet = 0x05
    case revision = 0x06
    case snapshot = 0x07
    case watch = 0x08
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
