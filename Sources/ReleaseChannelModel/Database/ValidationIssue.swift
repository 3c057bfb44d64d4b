/// One thing wrong with a db document: where (JSON path and, when known, line:column) and what.
public struct ValidationIssue: Sendable, Hashable, CustomStringConvertible {
    /// JSON path such as `releases[17].image`; `$` for the document itself.
    public var path: String
    public var position: JSONPosition?
    public var message: String

    public init(path: String, position: JSONPosition?, message: String) {
        self.path = path
        self.position = position
        self.message = message
    }

    /// `releases[17].image (40:16): invalid image reference …`
    public var description: String {
        if let position = self.position { return "\(self.path) (\(position)): \(self.message)" }
        return "\(self.path): \(self.message)"
    }
}
