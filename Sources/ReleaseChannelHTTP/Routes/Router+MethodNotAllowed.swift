import HTTPTypes
import Hummingbird

extension Router where Context == ReleaseRequestContext {
    /// Answers the standard methods a path does not serve with 405 and an `Allow` header, instead of
    /// the 404 the router would give.
    func rejectOtherMethods(on paths: [RouterPath], allowed: [HTTPRequest.Method]) {
        let allowHeader = allowed.map(\.rawValue).joined(separator: ", ")
        let standard: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]
        for path in paths {
            for method in standard where !allowed.contains(method) {
                self.on(path, method: method) { request, _ -> Response in
                    throw APIError.methodNotAllowed(request.method, allowed: allowHeader)
                }
            }
        }
    }
}
