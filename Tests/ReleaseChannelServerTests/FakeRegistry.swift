import Foundation
import HTTPTypes
import Hummingbird
import ReleaseChannelTestSupport
import Synchronization

/// A container registry on 127.0.0.1 that speaks the part of the OCI distribution API an image check
/// uses: HEAD of a manifest behind a Bearer challenge, and a token service. `acme/app` is public (an
/// anonymous token reads it); `acme/private` needs the token service's basic auth `bot:secret`.
final class FakeRegistry: Sendable {
    /// The images it has: name → (tag or digest → digest).
    static let manifests: [String: [String: String]] = [
        "acme/app": ["v1": digest("a"), digest("a"): digest("a")],
        "acme/private": ["v1": digest("c"), digest("c"): digest("c")],
    ]

    static func digest(_ hex: Character) -> String { "sha256:" + String(repeating: hex, count: 64) }

    private let tokenQueries = Mutex<[String]>([])
    var tokenRequests: [String] { self.tokenQueries.withLock { $0 } }

    func run(_ body: (Int) async throws -> Void) async throws {
        let router = Router()
        // The challenge names the token service by the port, known once the application runs.
        let port = Mutex(0)
        router.on("/v2/{owner}/{repository}/manifests/{reference}", method: .head) { request, context -> Response in
            let name = "\(try context.parameters.require("owner"))/\(try context.parameters.require("repository"))"
            let reference = try context.parameters.require("reference")
            guard request.headers[.authorization] == "Bearer \(name == "acme/private" ? "private-token" : "public-token")" else {
                var headers = HTTPFields()
                headers[.wwwAuthenticate] = #"Bearer realm="http://127.0.0.1:\#(port.withLock { $0 })/token",service="fake-registry",scope="repository:\#(name):pull""#
                return Response(status: .unauthorized, headers: headers)
            }
            guard let digest = Self.manifests[name]?[reference] else { return Response(status: .notFound) }
            var headers = HTTPFields()
            headers[HTTPField.Name("Docker-Content-Digest")!] = digest
            return Response(status: .ok, headers: headers)
        }
        router.get("/token") { request, _ -> Response in
            let query = request.uri.query ?? ""
            self.tokenQueries.withLock { $0.append(query) }
            let basic = "Basic " + Data("bot:secret".utf8).base64EncodedString()
            let token: String
            if query.contains("repository:acme/private:pull") {
                guard request.headers[.authorization] == basic else { return Response(status: .unauthorized) }
                token = "private-token"
            } else {
                token = "public-token"
            }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: #"{"token":"\#(token)"}"#)))
        }
        try await withLocalApplication(router: router) { bound in
            port.withLock { $0 = bound }
            try await body(bound)
        }
    }
}
