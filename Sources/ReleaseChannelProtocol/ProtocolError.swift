/// A violation of the framing or of a body layout, with the status the peer should be told.
public struct ProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The status to send the peer, in a reply or an ERROR frame.
    public var status: ProtocolStatus
    /// Human-readable English text for the error body; for logs and people, not to be parsed.
    public var message: String

    /// Creates an error from the status to send and its message.
    public init(_ status: ProtocolStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    /// `NAME: message`, for example `BAD_REQUEST: unknown channel "qa"`.
    public var description: String { "\(self.status.name): \(self.message)" }
}
