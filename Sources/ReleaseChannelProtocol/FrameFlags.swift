/// Frame flag bits (docs/protocol.md §4).
public struct FrameFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// A server reply to a request.
    public static let reply = FrameFlags(rawValue: 0x01)
    /// A server-initiated frame (request id 0).
    public static let push = FrameFlags(rawValue: 0x02)
    /// The body is gzip (RFC 1952).
    public static let compressed = FrameFlags(rawValue: 0x04)

    /// Bits version 1 defines; any other bit makes a frame invalid.
    public static let known: FrameFlags = [.reply, .push, .compressed]
}
