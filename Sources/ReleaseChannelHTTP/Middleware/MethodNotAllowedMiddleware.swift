public import Hummingbird
import HTTPTypes

/// Answers a request whose path a route serves, with a method that route does not take, 405
/// `method_not_allowed` with an `Allow` header, instead of the router's 404.
///
/// The router finds no responder for such a method and hands the request to its not-found responder;
/// this middleware, which runs around that one too, then matches the path against the routes' paths
/// itself. Any method is covered this way, the standard ones and every other one the HTTP/1 parser
/// knows (`TRACE`, `PROPFIND`, `CONNECT`, …), which a responder registered per method could not do.
public struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: [AllowedMethods]

    /// - Parameter routes: Each route's path and the methods it takes.
    public init(routes: [AllowedMethods]) {
        self.routes = routes
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && context.endpointPath == "NotFound" {
            // Only the not-found path gets here: a path that matched a route and a method it takes
            // never reaches the not-found responder. Rare, so splitting the path is no concern.
            let segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: true)
            guard let route = self.routes.first(where: { $0.matches(segments) }) else { throw error }
            context.coreContext.endpointPath.value = route.path.description
            throw APIError.methodNotAllowed(request.method, allowed: route.allowHeader)
        }
    }
}
