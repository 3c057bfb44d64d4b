/// Why a byte string is not a valid db: empty, not JSON, or JSON that breaks the format's rules.
public enum DatabaseDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    case syntax(JSONSyntaxError)
    /// Every rule violation found, in document order.
    case invalid([ValidationIssue])

    /// Stable machine-readable code used in HTTP error bodies and metrics.
    public var code: String {
        switch self {
        case .empty: "database_empty"
        case .syntax: "invalid_json"
        case .invalid: "invalid_database"
        }
    }

    /// The problems as issues (a syntax error is one issue at `$`).
    public var issues: [ValidationIssue] {
        switch self {
        case .empty: [ValidationIssue(path: "$", position: nil, message: "the file is empty")]
        case .syntax(let error): [ValidationIssue(path: "$", position: error.position, message: "invalid JSON: \(error.message)")]
        case .invalid(let issues): issues
        }
    }

    /// One line for logs and health: the first problem and how many more there are.
    public var summary: String {
        let issues = self.issues
        guard let first = issues.first else { return "invalid database" }
        return issues.count == 1 ? first.description : "\(first.description) (and \(issues.count - 1) more errors)"
    }

    public var description: String { self.issues.map(\.description).joined(separator: "\n") }
}
