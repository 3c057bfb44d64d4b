/// A violation of the framing or of a body layout, with the status the peer should be told.
public struct ProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: ProtocolStatus
    public var message: String

    public init(_ status: ProtocolStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(self.status.name): \(self.message)" }
}
