import ArgumentParser
import Foundation
import ReleaseChannelModel
import ReleaseChannelStore

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

    func run() async throws {
        do throws(UpdateError) {
            try DatabaseUpdater.checkFields(of: self.values.release(updatedAt: nil))
            try DatabaseUpdater.check("--repository", self.repository, FieldRules.checkRepository)
            guard !self.eventType.isEmpty, self.eventType.utf8.count <= 100 else {
                throw UpdateError.invalid(field: "--event-type", message: "must be 1–100 characters")
            }
        } catch {
            FileHandleOutput.standardError(error.description)
            throw ExitCode(1)
        }
        guard let token = ProcessInfo.processInfo.environment[self.tokenEnv], !token.isEmpty else {
            FileHandleOutput.standardError("the environment variable \(self.tokenEnv) holding the GitHub token is not set")
            throw ExitCode(1)
        }
        guard let url = URL(string: "\(self.apiUrl.hasSuffix("/") ? String(self.apiUrl.dropLast()) : self.apiUrl)/repos/\(self.repository)/dispatches"),
            url.scheme == "https" || url.scheme == "http"
        else {
            throw ValidationError("--api-url \"\(self.apiUrl)\" is not an http(s) URL")
        }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/vnd.github+json", forHTTPHeaderField: "Accept")
        request.setValue("2022-11-28", forHTTPHeaderField: "X-GitHub-Api-Version")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("release-chan", forHTTPHeaderField: "User-Agent")
        request.httpBody = Data(self.payload())
        request.timeoutInterval = 30
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            FileHandleOutput.standardError("dispatch to \(url.absoluteString) failed: \(error.localizedDescription)")
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
