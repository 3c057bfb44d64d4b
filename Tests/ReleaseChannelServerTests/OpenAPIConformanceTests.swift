import ReleaseChannelTestSupport
import Foundation
import Testing
import Yams

/// Every path, method and status in `docs/openapi.yaml` is produced by the running server, and every
/// JSON body carries the required members of its documented schema.
@Suite struct OpenAPIConformanceTests {
    struct Operation: Hashable, CustomStringConvertible {
        let method: String
        let path: String
        let status: String
        var description: String { "\(self.method) \(self.path) \(self.status)" }
    }

    /// How to make the server answer each documented status.
    struct Recipe {
        var method: String
        var target: String
        var headers: [String: String] = [:]
        var body: Data?
        var server: Server = .plain
        var prepare: Preparation = .none
    }

    enum Server { case plain, withToken }
    enum Preparation { case none, breakDatabase, shutDown }

    static let recipes: [String: Recipe] = {
        var recipes: [String: Recipe] = [:]
        func add(_ key: String, _ recipe: Recipe) { recipes[key] = recipe }
        let lookups = ["/v1/releases": "/v1/releases?container=my-app", "/v1/releases/{container}": "/v1/releases/my-app", "/v1/releases/{container}/{channel}": "/v1/releases/my-app/dev"]
        for (path, target) in lookups {
            add("GET \(path) 200", Recipe(method: "GET", target: target))
            add("GET \(path) 304", Recipe(method: "GET", target: target, headers: ["If-None-Match": "*"]))
            add("GET \(path) 405", Recipe(method: "DELETE", target: target))
            add("GET \(path) 404", Recipe(method: "GET", target: target.replacingOccurrences(of: "my-app", with: "unknown")))
        }
        add("GET /v1/releases 400", Recipe(method: "GET", target: "/v1/releases?container=my-app&channel=qa"))
        add("GET /v1/releases/{container} 400", Recipe(method: "GET", target: "/v1/releases/Not_Valid"))
        add("GET /v1/releases/{container}/{channel} 400", Recipe(method: "GET", target: "/v1/releases/my-app/qa"))
        add("GET /v1/channels 200", Recipe(method: "GET", target: "/v1/channels"))
        add("GET /v1/channels 304", Recipe(method: "GET", target: "/v1/channels", headers: ["If-None-Match": "*"]))
        add("GET /v1/channels 405", Recipe(method: "POST", target: "/v1/channels"))
        add("GET /v1/health 200", Recipe(method: "GET", target: "/v1/health"))
        add("GET /v1/health 405", Recipe(method: "PUT", target: "/v1/health"))
        add("GET /v1/ready 200", Recipe(method: "GET", target: "/v1/ready"))
        add("GET /v1/ready 405", Recipe(method: "POST", target: "/v1/ready"))
        add("GET /v1/ready 503", Recipe(method: "GET", target: "/v1/ready", prepare: .shutDown))
        add("GET /metrics 200", Recipe(method: "GET", target: "/metrics"))
        add("GET /metrics 405", Recipe(method: "DELETE", target: "/metrics"))
        add("POST /v1/reload 200", Recipe(method: "POST", target: "/v1/reload"))
        add("POST /v1/reload 401", Recipe(method: "POST", target: "/v1/reload", server: .withToken))
        add("POST /v1/reload 405", Recipe(method: "GET", target: "/v1/reload"))
        add("POST /v1/reload 413", Recipe(method: "POST", target: "/v1/reload", body: Data(repeating: 0x20, count: 8192)))
        add("POST /v1/reload 422", Recipe(method: "POST", target: "/v1/reload", prepare: .breakDatabase))
        // Refused from the start of the drain (ReloadCoordinatorTests.aReloadAfterShutdownIsRefused covers
        // the coordinator's own refusal once it has stopped).
        add("POST /v1/reload 503", Recipe(method: "POST", target: "/v1/reload", prepare: .shutDown))
        return recipes
    }()

    /// Statuses a loopback-only test cannot produce, and the test that covers them instead.
    static let coveredElsewhere: [String: String] = [
        "POST /v1/reload 403": "needs a non-loopback peer; ReloadAuthorizationTests covers the rule",
        "GET /v1/releases 503": Self.noSnapshot,
        "GET /v1/releases/{container} 503": Self.noSnapshot,
        "GET /v1/releases/{container}/{channel} 503": Self.noSnapshot,
        "GET /v1/channels 503": Self.noSnapshot,
    ]
    static let noSnapshot = "needs a server with no db, which the binary refuses to be; ReleaseRoutesWithoutSnapshotTests covers it"

    static func loadSpec() throws -> [String: Any] {
        let text = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        return try Yams.load(yaml: text) as? [String: Any] ?? [:]
    }

    static func operations(in spec: [String: Any]) -> [(Operation, [String: Any])] {
        var result: [(Operation, [String: Any])] = []
        for (path, value) in spec["paths"] as? [String: Any] ?? [:] {
            for (method, operation) in value as? [String: Any] ?? [:] where ["get", "post", "put", "delete", "patch"].contains(method) {
                for (status, response) in (operation as? [String: Any])?["responses"] as? [String: Any] ?? [:] {
                    let resolved = Self.resolve(response as? [String: Any] ?? [:], in: spec)
                    result.append((Operation(method: method.uppercased(), path: path, status: status), resolved))
                }
            }
        }
        return result.sorted { $0.0.description < $1.0.description }
    }

    static func resolve(_ object: [String: Any], in spec: [String: Any]) -> [String: Any] {
        guard let reference = object["$ref"] as? String, reference.hasPrefix("#/") else { return object }
        var current: Any = spec
        for component in reference.dropFirst(2).split(separator: "/") {
            current = (current as? [String: Any])?[String(component)] ?? [:]
        }
        return Self.resolve(current as? [String: Any] ?? [:], in: spec)
    }

    /// Required member names of a response's JSON schema (through `$ref`, and common to all `oneOf` arms).
    static func requiredMembers(_ response: [String: Any], in spec: [String: Any]) -> Set<String>? {
        guard let content = response["content"] as? [String: Any], let json = content["application/json"] as? [String: Any],
            let schema = json["schema"] as? [String: Any]
        else { return nil }
        func required(_ schema: [String: Any]) -> Set<String> {
            let resolved = Self.resolve(schema, in: spec)
            if let arms = resolved["oneOf"] as? [[String: Any]] {
                let sets = arms.map(required)
                return sets.dropFirst().reduce(sets.first ?? []) { $0.intersection($1) }
            }
            if let parts = resolved["allOf"] as? [[String: Any]] {
                return parts.map(required).reduce(Set<String>()) { $0.union($1) }
            }
            return Set(resolved["required"] as? [String] ?? [])
        }
        return required(schema)
    }

    @Test func everyDocumentedStatusIsProducedByTheServer() async throws {
        let spec = try Self.loadSpec()
        let operations = Self.operations(in: spec)
        #expect(operations.count >= 30)
        let documentedPaths = Set(operations.map(\.0.path))
        #expect(documentedPaths == ["/v1/health", "/v1/ready", "/v1/releases", "/v1/releases/{container}", "/v1/releases/{container}/{channel}", "/v1/channels", "/v1/reload", "/metrics"])

        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        try Fixtures.write(Fixtures.bytes(containers: 3), to: path)
        let plain = try await ServerProcess(arguments: ["--db", path, "--watch", "false", "--drain-delay", "5s"], directory: directory)
        let withToken = try await ServerProcess(arguments: ["--db", path, "--watch", "false"], directory: directory, environment: ["RELEASE_CHAN_ADMIN_TOKEN": "t0ken"])

        var deferred: [(Operation, Recipe, [String: Any])] = []
        for (operation, response) in operations {
            if Self.coveredElsewhere[operation.description] != nil { continue }
            guard let recipe = Self.recipes[operation.description] else {
                Issue.record("no request in this test produces \(operation); add a recipe")
                continue
            }
            if recipe.prepare != .none {
                deferred.append((operation, recipe, response))
                continue
            }
            let server = recipe.server == .plain ? plain : withToken
            try await self.check(operation, recipe, response, server: server, spec: spec)
        }
        for preparation in [Preparation.breakDatabase, .shutDown] {
            switch preparation {
            case .breakDatabase: try Fixtures.write(Array("{}".utf8), to: path)
            case .shutDown: plain.signal(SIGTERM)
            case .none: break
            }
            for (operation, recipe, response) in deferred where recipe.prepare == preparation {
                try await self.check(operation, recipe, response, server: plain, spec: spec)
            }
        }
        withToken.signal(SIGTERM)
        #expect(try await plain.waitForExit() == 0)
        #expect(try await withToken.waitForExit() == 0)
        for key in Self.recipes.keys {
            #expect(operations.contains { $0.0.description == key }, "recipe \(key) has no documented status")
        }
    }

    func check(_ operation: Operation, _ recipe: Recipe, _ response: [String: Any], server: ServerProcess, spec: [String: Any]) async throws {
        var answer = try await server.request(recipe.method, recipe.target, headers: recipe.headers, body: recipe.body)
        if recipe.prepare == .shutDown {
            // Readiness turns off within the drain delay after SIGTERM.
            _ = try await eventually(timeout: .seconds(15)) {
                answer = try await server.request(recipe.method, recipe.target)
                return answer.status == 503
            }
        }
        #expect("\(answer.status)" == operation.status, "\(operation): got \(answer.status) \(String(decoding: answer.body, as: UTF8.self).prefix(200))")
        guard let required = Self.requiredMembers(response, in: spec), answer.status != 304 else { return }
        let object = (try? JSONSerialization.jsonObject(with: answer.body)) as? [String: Any]
        #expect(object != nil, "\(operation): body is not a JSON object")
        let missing = required.subtracting(object?.keys.map { $0 } ?? [])
        #expect(missing.isEmpty, "\(operation): body lacks required members \(missing.sorted())")
    }
}
