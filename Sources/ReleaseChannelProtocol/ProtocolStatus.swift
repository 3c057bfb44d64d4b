/// Reply status (docs/protocol.md §5). A struct rather than an enum so that a client can carry codes a
/// newer server defines.
public struct ProtocolStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    public static let ok = ProtocolStatus(rawValue: 0)
    public static let notFound = ProtocolStatus(rawValue: 1)
    public static let badFrame = ProtocolStatus(rawValue: 2)
    public static let unsupportedVersion = ProtocolStatus(rawValue: 3)
    public static let unknownOpcode = ProtocolStatus(rawValue: 4)
    public static let frameTooLarge = ProtocolStatus(rawValue: 5)
    public static let badRequest = ProtocolStatus(rawValue: 6)
    public static let busy = ProtocolStatus(rawValue: 7)
    public static let `internal` = ProtocolStatus(rawValue: 8)

    /// Every status version 1 defines.
    public static let allDefined: [ProtocolStatus] = (0...8).map { ProtocolStatus(rawValue: $0) }

    public var name: String {
        switch self.rawValue {
        case 0: "OK"
        case 1: "NOT_FOUND"
        case 2: "BAD_FRAME"
        case 3: "UNSUPPORTED_VERSION"
        case 4: "UNKNOWN_OPCODE"
        case 5: "FRAME_TOO_LARGE"
        case 6: "BAD_REQUEST"
        case 7: "BUSY"
        case 8: "INTERNAL"
        default: "STATUS_\(self.rawValue)"
        }
    }

    public var description: String { self.name }
}
