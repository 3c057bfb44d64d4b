public import Hummingbird

/// Refuses a path with an empty segment (`//`) or a trailing `/` before a route answers it.
///
/// Hummingbird's router skips empty segments, so without this `/v1/releases//prod` would be answered
/// as the container "prod", `/v1/releases/my-app//prod` as my-app's prod release, `/v1/releases/` as
/// the whole db and `/v1/health/` as the health route: a client that left a name out, or built a path
/// wrongly, would get someone else's answer instead of an error. Under `/v1/releases/` a name was left
/// out (400 `bad_parameter`); any other such path names no route (404 `not_found`).
public struct ExactPathMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard Self.hasEmptySegment(path) else { return try await next(request, context) }
        let shown = String(reflecting: String(path.prefix(128)))
        if path.hasPrefix("/v1/releases/") {
            throw APIError.badParameter("empty path segment in \(shown)")
        }
        throw APIError.notFound("no route for \(request.method.rawValue) \(shown): a path with an empty segment or a trailing \"/\" names no route")
    }

    /// Whether `path` has `//` anywhere or ends in `/` (the root path `/` itself excepted).
    static func hasEmptySegment(_ path: String) -> Bool {
        let slash = UInt8(ascii: "/")
        var previousWasSlash = false
        var count = 0
        for byte in path.utf8 {
            let isSlash = byte == slash
            if isSlash, previousWasSlash { return true }
            previousWasSlash = isSlash
            count += 1
        }
        return previousWasSlash && count > 1
    }
}
