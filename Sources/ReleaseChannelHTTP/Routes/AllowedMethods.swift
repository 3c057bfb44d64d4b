public import HTTPTypes
public import Hummingbird

/// A route's path and the methods it takes, for ``MethodNotAllowedMiddleware``'s 405 and `Allow` header.
public struct AllowedMethods: Sendable {
    /// The path as the route is registered, e.g. `/v1/releases/{container}`.
    public let path: RouterPath
    /// The `Allow` header: the methods in the order given, e.g. `GET, HEAD`.
    public let allowHeader: String

    public init(_ path: RouterPath, _ methods: [HTTPRequest.Method]) {
        self.path = path
        self.allowHeader = methods.map(\.rawValue).joined(separator: ", ")
    }

    /// Whether the path's segments are this route's: as many, each literal equal and each capture any.
    func matches(_ segments: [Substring]) -> Bool {
        guard segments.count == self.path.components.count else { return false }
        return zip(self.path.components, segments).allSatisfy { $0 ~= $1 }
    }
}
