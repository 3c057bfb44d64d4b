/// Why a single field value breaks its rule; the caller adds the path and position.
public struct FieldError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { self.message }
}
