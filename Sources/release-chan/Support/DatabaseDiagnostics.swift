import ReleaseChannelModel

/// Formats db problems the way compilers do (`file:line:column: path: message`) so editors can jump
/// to them.
enum DatabaseDiagnostics {
    static func line(path: String, issue: ValidationIssue) -> String {
        let location = issue.position.map { "\(path):\($0.line):\($0.column)" } ?? path
        return issue.path == "$" ? "\(location): \(issue.message)" : "\(location): \(issue.path): \(issue.message)"
    }
}
