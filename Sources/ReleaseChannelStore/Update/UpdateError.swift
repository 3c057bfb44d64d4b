public import ReleaseChannelModel

/// Why an update command changed nothing. Each case maps to one CLI exit code.
public enum UpdateError: Error, Sendable, CustomStringConvertible {
    /// A value breaks the db rules (exit 1); `field` names the flag or JSON path.
    case invalid(field: String, message: String)
    /// The result would not be a valid db (exit 1).
    case invalidDatabase([ValidationIssue])
    /// The db read, or the db the update would write (`written`), is larger than the limit (exit 1).
    case tooLarge(size: Int, limit: Int, written: Bool)
    /// An older build tried to overwrite a newer one, or two builds disagree about one run (exit 3).
    case stale(String)
    /// The db file cannot be read, locked or written (exit 4).
    case io(String)

    public var description: String {
        switch self {
        case .invalid(let field, let message): "\(field): \(message)"
        case .invalidDatabase(let issues): issues.map(\.description).joined(separator: "\n")
        case .tooLarge(let size, let limit, let written):
            written
                ? "the updated db would be \(size) bytes, over the limit of \(limit) bytes (--max-db-bytes): nothing written"
                : "the file is \(size) bytes, over the limit of \(limit) bytes (--max-db-bytes)"
        case .stale(let message): message
        case .io(let message): message
        }
    }
}
