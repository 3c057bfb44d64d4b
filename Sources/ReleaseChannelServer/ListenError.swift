/// A listener could not take its address: the port is in use, or not ours to take.
public struct ListenError: Error, Sendable, CustomStringConvertible {
    /// Which listener: "HTTP" or "binary protocol".
    public let listener: String
    public let host: String
    public let port: Int
    /// What the system said, e.g. "Address already in use".
    public let reason: String

    public var description: String {
        "cannot listen for \(self.listener) on \(self.host):\(self.port): \(self.reason)"
    }
}
