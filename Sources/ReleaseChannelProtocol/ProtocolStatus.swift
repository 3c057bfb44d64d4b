/// Reply status (docs/protocol.md §5). A struct rather than an enum so that a client can carry codes a
/// newer server defines.
public struct ProtocolStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The status byte of the frame header or of a BATCH_GET item.
    public let rawValue: UInt8

    /// Wraps any status byte, including codes this build does not define.
    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// 0: the request succeeded; also the status of requests and pushes.
    public static let ok = ProtocolStatus(rawValue: 0)
    /// 1: no release for what was asked (unknown container, or none on that channel); an answer, not an error.
    public static let notFound = ProtocolStatus(rawValue: 1)
    /// 2: the frame itself is invalid (length below 16, flags or status set in a request); the server closes
    /// the connection.
    public static let badFrame = ProtocolStatus(rawValue: 2)
    /// 3: HELLO offered no version the server speaks, or a frame has another version than the negotiated
    /// one; the server closes the connection.
    public static let unsupportedVersion = ProtocolStatus(rawValue: 3)
    /// 4: the request's opcode is not defined for clients in this version; the connection stays open.
    public static let unknownOpcode = ProtocolStatus(rawValue: 4)
    /// 5: the frame is larger than the server's `max_frame`; sent in an ERROR frame, then the server closes
    /// the connection.
    public static let frameTooLarge = ProtocolStatus(rawValue: 5)
    /// 6: a well-formed frame with an invalid request: malformed body, invalid container name, unknown channel,
    /// a second HELLO, or a request before the handshake.
    public static let badRequest = ProtocolStatus(rawValue: 6)
    /// 7: the server cannot serve this now (connection cap reached, or no snapshot loaded yet); retry with
    /// backoff.
    public static let busy = ProtocolStatus(rawValue: 7)
    /// 8: an unexpected server-side failure, in a reply, a BATCH_GET item or an ERROR frame.
    public static let `internal` = ProtocolStatus(rawValue: 8)

    /// Every status version 1 defines.
    public static let allDefined: [ProtocolStatus] = (0...8).map { ProtocolStatus(rawValue: $0) }

    /// The name used in the specification (`NOT_FOUND`), or `STATUS_<n>` for a code this build does not define.
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
