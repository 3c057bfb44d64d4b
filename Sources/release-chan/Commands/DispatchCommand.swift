import ArgumentParser
import Dispatch
import Foundation
import ReleaseChannelModel
import ReleaseChannelStore
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `release-chan dispatch`: what a source repository's workflow runs after a green build.
struct DispatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatch",
        abstract: "Send a release update to the release-chan repository as a GitHub repository_dispatch event.",
        discussion: """
            Validates the values locally with the db rules first, then POSTs \
            {api-url}/repos/OWNER/NAME/dispatches. GitHub answers 204 on success.
            Exit status: 0 sent, 1 invalid input, 2 usage, 4 the request failed or was refused.
            """
    )

    @Option(help: "The repository holding db/db.json, OWNER/NAME.")
    var repository: String

    @OptionGroup var values: ReleaseOptions

    @Option(help: "Event type the update workflow listens for.")
    var eventType: String = "release-channel-update"

    @Option(help: "Environment variable holding the GitHub token.")
    var tokenEnv: String = "GITHUB_TOKEN"

    @Option(help: "GitHub API base URL.")
    var apiUrl: String = "https://api.github.com"

    @Option(parsing: .unconditional, help: "Seconds to wait for GitHub's whole answer.")
    var timeout: Double = 30

    func validate() throws {
        guard self.timeout > 0, self.timeout <= 600 else {
            throw ValidationError("--timeout must be a number of seconds above 0 and at most 600, not \(self.timeout)")
        }
    }

    func run() async throws {
        do throws(UpdateError) {
            try DatabaseUpdater.checkFields(of: self.values.release(updatedAt: nil))
            try DatabaseUpdater.check("--repository", self.repository, FieldRules.checkRepository)
            try DatabaseUpdater.checkRepositoryName("--repository", self.repository)
            try Self.checkEventType(self.eventType)
        } catch {
            FileHandleOutput.standardError(error.description)
            throw ExitCode(1)
        }
        // A token read from a file written on Windows, or by `echo`, ends in CR or LF: sent as is, the
        // header is refused or GitHub answers 401 with nothing to say why.
        let token = (ProcessInfo.processInfo.environment[self.tokenEnv] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            FileHandleOutput.standardError("the environment variable \(self.tokenEnv) holding the GitHub token is not set or empty")
            throw ExitCode(1)
        }
        guard token.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            FileHandleOutput.standardError("the GitHub token in \(self.tokenEnv) contains a space or a control or non-ASCII character")
            throw ExitCode(1)
        }
        let url = try self.dispatchURL()
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/vnd.github+json", forHTTPHeaderField: "Accept")
        request.setValue("2022-11-28", forHTTPHeaderField: "X-GitHub-Api-Version")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("release-chan", forHTTPHeaderField: "User-Agent")
        request.httpBody = Data(self.payload())
        request.timeoutInterval = self.timeout
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await Self.send(request, within: self.timeout)
        } catch {
            FileHandleOutput.standardError("dispatch to \(url.absoluteString) failed: \(self.describe(error))")
            throw ExitCode(4)
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 204 else {
            let body = String(decoding: data.prefix(2000), as: UTF8.self)
            FileHandleOutput.standardError("dispatch refused: HTTP \(status) from \(url.absoluteString)\(body.isEmpty ? "" : ": \(body)")")
            throw ExitCode(4)
        }
        FileHandleOutput.standardOutput("dispatched \(self.eventType): \(self.values.container)/\(self.values.channel) -> \(self.values.image) to \(self.repository)")
    }

    /// `request`'s answer, or URLError.timedOut once `seconds` have passed since it was sent. The
    /// request's own timeoutInterval is an idle timeout (a server sending a byte a second held the
    /// command forever), and URLSession on Linux ignores timeoutIntervalForResource.
    static func send(_ request: URLRequest, within seconds: Double) async throws -> (Data, URLResponse) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = seconds
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        return try await withCheckedThrowingContinuation { continuation in
            // Resumed once: by the answer or by the deadline, whichever comes first.
            let pending = Mutex<CheckedContinuation<(Data, URLResponse), any Error>?>(continuation)
            let task = session.dataTask(with: request) { data, response, error in
                guard let continuation = pending.withLock({ $0.take() }) else { return }
                if let error {
                    continuation.resume(throwing: error)
                } else if let data, let response {
                    continuation.resume(returning: (data, response))
                } else {
                    continuation.resume(throwing: URLError(.badServerResponse))
                }
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                guard let continuation = pending.withLock({ $0.take() }) else { return }
                task.cancel()
                continuation.resume(throwing: URLError(.timedOut))
            }
            task.resume()
        }
    }

    /// What the update workflow accepts (gitops-setup.md §4): GitHub takes any 1–100 characters, but a
    /// type the workflow refuses would be sent and then fail where the sender does not see it.
    static func checkEventType(_ value: String) throws(UpdateError) {
        let bytes = Array(value.utf8)
        func allowed(_ byte: UInt8, first: Bool) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
            case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"): !first
            default: false
            }
        }
        guard (1...100).contains(bytes.count), bytes.enumerated().allSatisfy({ allowed($0.element, first: $0.offset == 0) }) else {
            throw .invalid(field: "--event-type", message: "event type \(FieldRules.quoted(value)) must be 1–100 characters of a-z, 0-9, '.', '_', '-', starting with a letter or digit")
        }
    }

    /// `{api-url}/repos/OWNER/NAME/dispatches`, the path appended to the base's own (GitHub Enterprise's
    /// is `/api/v3`). A query or fragment in the base is refused: text pasted after it would have become
    /// part of the query.
    func dispatchURL() throws -> URL {
        guard var components = URLComponents(string: self.apiUrl), components.scheme == "https" || components.scheme == "http",
            let host = components.host, !host.isEmpty
        else {
            throw ValidationError("--api-url \"\(self.apiUrl)\" is not an http(s) URL")
        }
        guard components.query == nil, components.fragment == nil else {
            throw ValidationError("--api-url \"\(self.apiUrl)\" must not have a query or a fragment")
        }
        let base = components.percentEncodedPath.hasSuffix("/") ? String(components.percentEncodedPath.dropLast()) : components.percentEncodedPath
        components.percentEncodedPath = "\(base)/repos/\(self.repository)/dispatches"
        guard let url = components.url else { throw ValidationError("--api-url \"\(self.apiUrl)\" is not an http(s) URL") }
        return url
    }

    /// URLSession's errors on Linux read "The operation could not be completed. (NSURLErrorDomain error
    /// -1001.)": say what happened instead.
    func describe(_ error: any Error) -> String {
        guard let error = error as? URLError else { return error.localizedDescription }
        switch error.code {
        case .timedOut: return "no answer within \(self.timeout) s (--timeout)"
        case .cannotFindHost, .dnsLookupFailed: return "the host cannot be resolved"
        case .cannotConnectToHost: return "the connection was refused"
        case .networkConnectionLost: return "the connection was closed before the answer"
        case .notConnectedToInternet: return "no network"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateHasUnknownRoot,
            .serverCertificateNotYetValid:
            return "the TLS handshake failed (\(error.code.rawValue))"
        case .badServerResponse: return "the answer is not valid HTTP"
        case .badURL, .unsupportedURL: return "URLSession cannot request this URL (\(error.code.rawValue); an IPv6 address in --api-url is one it cannot)"
        default: return "URL error \(error.code.rawValue): \(error.localizedDescription)"
        }
    }

    /// `{"event_type":…,"client_payload":{container, channel, image, digest, repository, sha, ref, run_id, actor}}`;
    /// absent values are left out (GitHub allows at most 10 payload keys).
    func payload() -> [UInt8] {
        var writer = JSONWriter()
        writer.raw("{\"event_type\":")
        writer.string(self.eventType)
        writer.raw(",\"client_payload\":{\"container\":")
        writer.string(self.values.container)
        writer.raw(",\"channel\":")
        writer.string(self.values.channel)
        writer.raw(",\"image\":")
        writer.string(self.values.image)
        let optional: [(StaticString, String?)] = [
            (",\"digest\":", self.values.digest),
            (",\"repository\":", self.values.sourceRepository),
            (",\"sha\":", self.values.sourceSha),
            (",\"ref\":", self.values.sourceRef),
            (",\"actor\":", self.values.actor),
        ]
        for (key, value) in optional {
            if let value {
                writer.raw(key)
                writer.string(value)
            }
        }
        if let runID = self.values.runId {
            writer.raw(",\"run_id\":")
            writer.integer(runID)
        }
        writer.raw("}}")
        return writer.bytes
    }
}
