/// A 1-based line and byte column in a JSON document.
public struct JSONPosition: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(self.line):\(self.column)" }
}

/// A parsed JSON value that remembers where it started, so validation errors can point at the source.
public struct JSONNode: Sendable {
    public var value: JSONValue
    public var position: JSONPosition
}

/// One `"key": value` member of a JSON object, in document order.
public struct JSONMember: Sendable {
    public var key: String
    public var keyPosition: JSONPosition
    public var value: JSONNode
}

/// The JSON data model. Integers that fit `Int64` are kept exact; other numbers are `Double`.
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONNode])
    case object([JSONMember])

    /// A short name of the value's type for error messages ("a string", "an object", …).
    public var typeDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
