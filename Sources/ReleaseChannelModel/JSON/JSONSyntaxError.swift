/// The document is not well-formed JSON (RFC 8259); parsing stops at the first such error.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var position: JSONPosition

    public init(message: String, position: JSONPosition) {
        self.message = message
        self.position = position
    }

    public var description: String { "\(self.position): \(self.message)" }
}
