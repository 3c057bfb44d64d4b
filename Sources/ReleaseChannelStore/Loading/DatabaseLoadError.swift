public import ReleaseChannelModel

/// Why a db file could not become a snapshot. The snapshot being served stays in place.
public enum DatabaseLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Missing, unreadable, or not a regular file.
    case unreadable(path: String, reason: String)
    case tooLarge(path: String, size: Int, limit: Int)
    case decoding(path: String, DatabaseDecodingError)

    /// Stable machine-readable code for HTTP bodies and metrics labels.
    public var code: String {
        switch self {
        case .unreadable: "database_unreadable"
        case .tooLarge: "database_too_large"
        case .decoding(_, let error): error.code
        }
    }

    /// Every problem, with path and position where they are known.
    public var issues: [ValidationIssue] {
        switch self {
        case .unreadable(_, let reason): [ValidationIssue(path: "$", position: nil, message: reason)]
        case .tooLarge(_, let size, let limit):
            [ValidationIssue(path: "$", position: nil, message: "the file is \(size) bytes, over the limit of \(limit) bytes (--max-db-bytes)")]
        case .decoding(_, let error): error.issues
        }
    }

    /// One line for logs and health.
    public var summary: String {
        switch self {
        case .unreadable(let path, let reason): "\(path): \(reason)"
        case .tooLarge(let path, let size, let limit): "\(path): the file is \(size) bytes, over the limit of \(limit) bytes (--max-db-bytes)"
        case .decoding(let path, let error): "\(path): \(error.summary)"
        }
    }

    public var description: String {
        switch self {
        case .decoding(let path, let error): error.issues.map { "\(path): \($0)" }.joined(separator: "\n")
        default: self.summary
        }
    }
}
