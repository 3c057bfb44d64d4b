import ReleaseChannelTestSupport
import Foundation
import Hummingbird
import Synchronization
import Testing

/// A local stand-in for the GitHub API that records every request it gets.
final class RecordingListener: Sendable {
    struct Recorded: Sendable {
        let method: String
        let path: String
        let headers: [String: String]
        let body: Data
    }

    private let recorded = Mutex<[Recorded]>([])
    let status: HTTPResponse.Status

    init(status: HTTPResponse.Status) { self.status = status }

    var requests: [Recorded] { self.recorded.withLock { $0 } }

    func run(_ body: (Int) async throws -> Void) async throws {
        let router = Router()
        router.post("/repos/{owner}/{repo}/dispatches") { request, _ -> Response in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
            self.recorded.withLock {
                $0.append(Recorded(method: request.method.rawValue, path: request.uri.path, headers: headers, body: Data(bytes.readableBytesView)))
            }
            return Response(status: self.status, body: .init(byteBuffer: ByteBuffer(string: self.status == .noContent ? "" : #"{"message":"Not Found"}"#)))
        }
        try await withLocalApplication(router: router, body)
    }
}

@Suite struct DispatchTests {
    func environment(_ extra: [String: String]) -> [String: String] {
        ProcessInfo.processInfo.environment.merging(extra) { $1 }
    }

    @Test func dispatchSendsTheDocumentedRequest() async throws {
        let listener = RecordingListener(status: .noContent)
        try await listener.run { port in
            let result = try await Subprocess.run(
                Fixtures.executable.path,
                [
                    "dispatch", "--repository", "acme/release-chan", "--container", "my-app", "--channel", "dev",
                    "--image", "ghcr.io/acme/my-app:v2", "--source-repository", "acme/my-app", "--run-id", "42",
                    "--api-url", "http://127.0.0.1:\(port)", "--token-env", "TEST_DISPATCH_TOKEN",
                ],
                environment: self.environment(["TEST_DISPATCH_TOKEN": "ghp_test"])
            )
            #expect(result.status == 0, "\(result.standardError)")
            let request = try #require(listener.requests.first)
            #expect(request.method == "POST")
            #expect(request.path == "/repos/acme/release-chan/dispatches")
            #expect(request.headers["authorization"] == "Bearer ghp_test")
            #expect(request.headers["accept"] == "application/vnd.github+json")
            let json = try #require(try JSONSerialization.jsonObject(with: request.body) as? [String: Any])
            #expect(json["event_type"] as? String == "release-channel-update")
            let payload = try #require(json["client_payload"] as? [String: Any])
            #expect(payload["container"] as? String == "my-app")
            #expect(payload["channel"] as? String == "dev")
            #expect(payload["image"] as? String == "ghcr.io/acme/my-app:v2")
            #expect(payload["repository"] as? String == "acme/my-app")
            #expect(payload["run_id"] as? Int == 42)
            #expect(payload.count <= 10)
        }
    }

    @Test func dispatchFailsClearlyUnless204() async throws {
        let listener = RecordingListener(status: .notFound)
        try await listener.run { port in
            let result = try await Subprocess.run(
                Fixtures.executable.path,
                ["dispatch", "--repository", "acme/release-chan", "--container", "my-app", "--channel", "dev", "--image", "ghcr.io/acme/my-app:v2", "--api-url", "http://127.0.0.1:\(port)"],
                environment: self.environment(["GITHUB_TOKEN": "ghp_test"])
            )
            #expect(result.status == 4)
            #expect(result.standardError.contains("HTTP 404"))
            #expect(result.standardError.contains("Not Found"))
        }
        // Invalid values never reach the network.
        let invalid = try await Subprocess.run(
            Fixtures.executable.path,
            ["dispatch", "--repository", "acme/release-chan", "--container", "My App", "--channel", "dev", "--image", "x", "--api-url", "http://127.0.0.1:9"],
            environment: self.environment(["GITHUB_TOKEN": "ghp_test"])
        )
        #expect(invalid.status == 1)
        #expect(invalid.standardError.contains("--container"))
    }

    @Test func testDispatchScriptSendsTheSameRequest() async throws {
        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/test-dispatch.sh").path
        let listener = RecordingListener(status: .noContent)
        try await listener.run { port in
            let result = try await Subprocess.run(
                "/bin/bash",
                [script, "ghp_script", "my-app", "stage", "ghcr.io/acme/my-app:v3"],
                environment: self.environment(["GITHUB_API_URL": "http://127.0.0.1:\(port)", "RC_REPOSITORY": "acme/release-chan"])
            )
            #expect(result.status == 0, "\(result.standardOutput) \(result.standardError)")
            #expect(result.standardOutput.contains("204"))
            let request = try #require(listener.requests.first)
            #expect(request.path == "/repos/acme/release-chan/dispatches")
            #expect(request.headers["authorization"] == "Bearer ghp_script")
            #expect(request.headers["accept"] == "application/vnd.github+json")
            let payload = (try JSONSerialization.jsonObject(with: request.body) as? [String: Any])?["client_payload"] as? [String: Any]
            #expect(payload?["channel"] as? String == "stage")
            #expect(payload?["image"] as? String == "ghcr.io/acme/my-app:v3")
        }
        let refused = RecordingListener(status: .notFound)
        try await refused.run { port in
            let result = try await Subprocess.run(
                "/bin/bash",
                [script, "ghp_script", "my-app", "stage", "ghcr.io/acme/my-app:v3"],
                environment: self.environment(["GITHUB_API_URL": "http://127.0.0.1:\(port)", "RC_REPOSITORY": "acme/release-chan"])
            )
            #expect(result.status == 3, "any answer but 204 (docs/gitops-setup.md, 3.5)")
            #expect((result.standardOutput + result.standardError).contains("404"))
        }
        let invalid = try await Subprocess.run("/bin/bash", [script, "t", "My_App", "dev", "x"], environment: self.environment(["RC_REPOSITORY": "acme/release-chan"]))
        #expect(invalid.status == 1)
    }

    /// `dispatch` refuses what the update workflow would (validate-payload.sh, gitops-setup.md §4) before
    /// sending anything: an event type it does not take, a repository named `.` or `..`, a ref with a
    /// bidirectional control; `db set` refuses the same source values. It had sent them.
    @Test func dispatchRefusesWhatTheWorkflowRefuses() async throws {
        let base = ["dispatch", "--repository", "acme/release-chan", "--container", "my-app", "--channel", "dev", "--image", "ghcr.io/acme/my-app:v2", "--api-url", "http://127.0.0.1:9"]
        for (extra, message) in [
            (["--event-type", "Release Update"], "--event-type: event type \"Release Update\" must be 1–100 characters"),
            (["--event-type", "_update"], "--event-type"),
            (["--source-repository", "acme/.."], "--source-repository: repository \"acme/..\" is not a valid repository: the name must not be \".\" or \"..\""),
            (["--source-ref", "refs/heads/\u{202E}niam"], "--source-ref: \"refs/heads/\\u{202E}niam\" contains a bidirectional text control character"),
        ] {
            let result = try await Subprocess.run(Fixtures.executable.path, base + extra, environment: self.environment(["GITHUB_TOKEN": "ghp_test"]))
            #expect(result.status == 1, "\(extra)")
            #expect(result.standardError.contains(message), "\(result.standardError)")
        }
        let target = try await Subprocess.run(
            Fixtures.executable.path, ["dispatch", "--repository", "acme/."] + base.dropFirst(3), environment: self.environment(["GITHUB_TOKEN": "ghp_test"])
        )
        #expect(target.status == 1)
        #expect(target.standardError.contains("--repository: repository \"acme/.\""), "\(target.standardError)")

        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        try Fixtures.write(Fixtures.bytes(containers: 1), to: path)
        let set = try await Subprocess.run(
            Fixtures.executable.path, ["db", "set", "--db", path, "--container", "my-app", "--channel", "dev", "--image", "ghcr.io/acme/my-app:v2", "--source-repository", "acme/.."]
        )
        #expect(set.status == 1)
        #expect(set.standardError.contains("--source-repository"), "\(set.standardError)")
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == Fixtures.bytes(containers: 1))
    }

    /// The token loses the CR or LF a CRLF file or `echo` leaves; the URL gets the path after an
    /// --api-url's own and refuses a query (`?x=1/repos/…` had been sent); a failure says what failed,
    /// not "NSURLErrorDomain error -1001".
    @Test func dispatchTrimsTheTokenAndNamesWhatFailed() async throws {
        let listener = RecordingListener(status: .noContent)
        let base = ["dispatch", "--repository", "acme/release-chan", "--container", "my-app", "--channel", "dev", "--image", "ghcr.io/acme/my-app:v2"]
        try await listener.run { port in
            let result = try await Subprocess.run(
                Fixtures.executable.path, base + ["--api-url", "http://127.0.0.1:\(port)/"], environment: self.environment(["GITHUB_TOKEN": "ghp_crlf\r\n"])
            )
            #expect(result.status == 0, "\(result.standardError)")
            let request = try #require(listener.requests.first)
            #expect(request.headers["authorization"] == "Bearer ghp_crlf")
            #expect(request.path == "/repos/acme/release-chan/dispatches")
        }
        let query = try await Subprocess.run(Fixtures.executable.path, base + ["--api-url", "http://127.0.0.1:9/api?x=1"], environment: self.environment(["GITHUB_TOKEN": "t"]))
        #expect(query.status == 2)
        #expect(query.standardError.contains("--api-url \"http://127.0.0.1:9/api?x=1\" must not have a query or a fragment"), "\(query.standardError)")
        let spaced = try await Subprocess.run(Fixtures.executable.path, base + ["--api-url", "http://127.0.0.1:9"], environment: self.environment(["GITHUB_TOKEN": "ghp a"]))
        #expect(spaced.status == 1)
        #expect(spaced.standardError.contains("the GitHub token in GITHUB_TOKEN contains a space"), "\(spaced.standardError)")

        let silent = try await SilentListener()
        defer { silent.close() }
        let timedOut = try await Subprocess.run(
            Fixtures.executable.path, base + ["--api-url", "http://127.0.0.1:\(silent.port)", "--timeout", "1"], environment: self.environment(["GITHUB_TOKEN": "t"])
        )
        #expect(timedOut.status == 4)
        #expect(timedOut.standardError.contains("dispatch to http://127.0.0.1:\(silent.port)/repos/acme/release-chan/dispatches failed: no answer within 1.0 s (--timeout)"), "\(timedOut.standardError)")

        // --timeout bounds the whole exchange: a server sending a header field every 200 ms had held the
        // command for as long as it went on (URLRequest's timeout is an idle timeout).
        let trickling = try await TricklingListener()
        defer { trickling.close() }
        let slow = try await Subprocess.run(
            "/usr/bin/timeout", ["-k", "5", "30", Fixtures.executable.path] + base + ["--api-url", "http://127.0.0.1:\(trickling.port)", "--timeout", "1"],
            environment: self.environment(["GITHUB_TOKEN": "t"])
        )
        #expect(slow.status == 4, "\(slow.standardError)")
        #expect(slow.standardError.contains("no answer within 1.0 s (--timeout)"), "\(slow.standardError)")
    }

    /// A token file saved with CRLF line endings, read from stdin, sends the token without the `\r`.
    @Test func testDispatchScriptStripsACarriageReturnFromTheToken() async throws {
        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/test-dispatch.sh").path
        let listener = RecordingListener(status: .noContent)
        try await listener.run { port in
            let result = try await Subprocess.run(
                "/bin/bash",
                ["-c", #"printf 'ghp_crlf\r\n' | /bin/bash "$0" - my-app dev ghcr.io/acme/my-app:v3"#, script],
                environment: self.environment(["GITHUB_API_URL": "http://127.0.0.1:\(port)", "RC_REPOSITORY": "acme/release-chan"])
            )
            #expect(result.status == 0, "\(result.standardOutput) \(result.standardError)")
            let request = try #require(listener.requests.first)
            #expect(request.headers["authorization"] == "Bearer ghp_crlf")
        }
    }

    /// Bidi controls in `ref` and the repository names `.`/`..` are refused naming the field; the job
    /// summary shows every reason as inline code, so a hostile key name renders as text, not a link.
    @Test func validatePayloadRefusesBidiRefsAndDotRepositoriesAndQuotesTheSummary() async throws {
        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/validate-payload.sh").path
        let db = Fixtures.repositoryRoot.appendingPathComponent("db/db.json").path
        let directory = try TemporaryDirectory()
        func validate(_ payload: String, summary: String) async throws -> Subprocess.Result {
            var environment = self.environment(["EVENT_TYPE": "release-channel-update", "PAYLOAD_JSON": payload, "RC_DB": db, "GITHUB_STEP_SUMMARY": directory.file(summary)])
            environment.removeValue(forKey: "GITHUB_ENV")
            environment.removeValue(forKey: "GITHUB_OUTPUT")
            return try await Subprocess.run("/bin/bash", [script], environment: environment)
        }
        for ref in [#"refs/heads/main\u202e"#, #"refs/tags/v1\u2066x"#] {
            let result = try await validate(#"{"container":"my-app","channel":"dev","image":"ghcr.io/acme/my-app:v2","ref":"\#(ref)"}"#, summary: "ref")
            #expect(result.status == 1, "\(ref): \(result.standardError)")
            #expect(result.standardError.contains("ref contains a bidirectional"), "\(result.standardError)")
        }
        for repository in ["acme/.", "acme/.."] {
            let result = try await validate(#"{"container":"my-app","channel":"dev","image":"ghcr.io/acme/my-app:v2","repository":"\#(repository)"}"#, summary: "repository")
            #expect(result.status == 1, "\(repository): \(result.standardError)")
            #expect(result.standardError.contains("repository \"\(repository)\" is not a valid repository"), "\(result.standardError)")
        }
        let accepted = try await validate(#"{"container":"my-app","channel":"dev","image":"ghcr.io/acme/my-app:v2","repository":"acme/..x","ref":"refs/heads/\u00e9t\u00e9"}"#, summary: "accepted")
        #expect(accepted.status == 0, "\(accepted.standardError)")
        let hostile = try await validate(#"{"container":"my-app","channel":"dev","image":"ghcr.io/acme/my-app:v2","[link](http://evil)":"x"}"#, summary: "hostile")
        #expect(hostile.status == 1)
        let summary = String(decoding: try Data(contentsOf: URL(fileURLWithPath: directory.file("hostile"))), as: UTF8.self)
        #expect(summary.contains("- `unknown key \"[link](http://evil)\"`\n"), "\(summary)")
    }

    @Test func validatePayloadRefusesOversizedPayloads() async throws {
        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/validate-payload.sh").path
        let db = Fixtures.repositoryRoot.appendingPathComponent("db/db.json").path
        func validate(_ eventType: String, _ payload: String) async throws -> Subprocess.Result {
            var environment = self.environment(["EVENT_TYPE": eventType, "PAYLOAD_JSON": payload, "RC_DB": db])
            environment.removeValue(forKey: "GITHUB_ENV")
            environment.removeValue(forKey: "GITHUB_OUTPUT")
            return try await Subprocess.run("/bin/bash", [script], environment: environment)
        }
        let good = try await validate("release-channel-update", #"{"container":"my-app","channel":"dev","image":"ghcr.io/acme/my-app:v2","run_id":7}"#)
        #expect(good.status == 0, "\(good.standardError)")
        let elevenKeys = (0..<11).map { "\"k\($0)\":\"v\"" }.joined(separator: ",")
        let tooMany = try await validate("release-channel-update", "{\(elevenKeys)}")
        #expect(tooMany.status == 1)
        #expect(tooMany.standardError.contains("10"))
        let longEvent = try await validate(String(repeating: "e", count: 101), #"{"container":"my-app","channel":"dev","image":"ghcr.io/acme/my-app:v2"}"#)
        #expect(longEvent.status == 1)
        let injected = try await validate("release-channel-update", #"{"container":"my-app$(id)","channel":"dev","image":"ghcr.io/acme/my-app:v2"}"#)
        #expect(injected.status == 1)
    }
}
