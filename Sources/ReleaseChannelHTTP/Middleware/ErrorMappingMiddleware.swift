public import Hummingbird
import Logging

/// Turns every error into the API's JSON error shape, so even the router's own 404 and the request
/// body limit answer `{"error":{…}}`; unexpected errors become a logged 500 that reveals nothing.
public struct ErrorMappingMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            switch error.status {
            case .notFound:
                throw APIError.notFound("no route for \(request.method.rawValue) \(request.uri.path)")
            case .contentTooLarge:
                throw APIError(.contentTooLarge, code: "payload_too_large", message: "the request body is too large")
            case .badRequest:
                throw APIError.badParameter(error.body ?? "bad request")
            default:
                throw APIError(error.status, code: "http_\(error.status.code)", message: error.body ?? error.status.reasonPhrase)
            }
        } catch let error as any HTTPResponseError {
            throw APIError(error.status, code: "http_\(error.status.code)", message: error.status.reasonPhrase)
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(String(reflecting: error))"])
            throw APIError(.internalServerError, code: "internal", message: "internal error")
        }
    }
}
