import ReleaseChannelTestSupport
import Foundation
import Logging
import ReleaseChannelModel
import ReleaseChannelServer
import Synchronization


#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension Fixtures {
    /// The `release-chan` executable built next to the test bundle.
    static var executable: URL {
        let candidates = [
            Bundle.main.executableURL?.deletingLastPathComponent().appendingPathComponent("release-chan"),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("release-chan"),
            self.repositoryRoot.appendingPathComponent(".build/debug/release-chan"),
        ].compactMap { $0 }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[candidates.count - 1]
    }
}

/// Runs a real server in this process on 127.0.0.1 with an ephemeral port for the duration of `body`.
func withTestServer(
    database: [UInt8] = Fixtures.bytes(containers: 3),
    configure: (inout ServerConfiguration) -> Void = { _ in },
    _ body: (TestServer) async throws -> Void
) async throws {
    let directory = try TemporaryDirectory()
    let path = directory.file("db.json")
    try Fixtures.write(database, to: path)
    var configuration = ServerConfiguration()
    configuration.databasePath = path
    configuration.host = "127.0.0.1"
    configuration.httpPort = 0
    configuration.tcpPort = 0
    configuration.handleSignals = false
    configuration.accessLog = false
    // Cancelling a test's server must never end the whole test process, however loaded the machine is.
    configuration.cancellationTimeout = nil
    configure(&configuration)
    let server = ReleaseChannelServer(configuration: configuration, logger: Fixtures.logger)
    let (ports, continuation) = AsyncStream<(String, Int)>.makeStream()
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            try await server.run(
                onHTTPListening: { continuation.yield(("http", $0)) },
                onTCPListening: { continuation.yield(("tcp", $0)) }
            )
        }
        var listening: [String: Int] = [:]
        for await (kind, port) in ports {
            listening[kind] = port
            if listening.count == 2 { break }
        }
        guard let http = listening["http"], let tcp = listening["tcp"] else { throw TestFailure("server did not start") }
        try await body(TestServer(port: http, tcpPort: tcp, directory: directory, databasePath: configuration.databasePath))
        group.cancelAll()
    }
}

/// The value of an unlabelled metric in a /metrics body, nil when it is not there.
func metric(_ name: String, in body: Data) -> Double? {
    let prefix = name + " "
    return String(decoding: body, as: UTF8.self).split(separator: "\n")
        .first { $0.hasPrefix(prefix) }
        .flatMap { Double($0.dropFirst(prefix.count)) }
}

struct TestServer: Sendable {
    let port: Int
    let tcpPort: Int
    let directory: TemporaryDirectory
    let databasePath: String

    var baseURL: String { "http://127.0.0.1:\(self.port)" }

    func request(_ path: String, headers: [String: String] = [:]) async throws -> HTTPResult {
        try await self.request("GET", path, headers: headers)
    }

    func request(_ method: String, _ path: String, headers: [String: String] = [:], body: Data? = nil) async throws -> HTTPResult {
        try await HTTP.request(method, "\(self.baseURL)\(path)", headers: headers, body: body)
    }
}

struct HTTPResult: Sendable {
    let status: Int
    let headers: [String: String]
    let body: Data

    func header(_ name: String) -> String? {
        self.headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: self.body)) as? [String: Any] ?? [:]
    }

    var errorCode: String? { (self.json["error"] as? [String: Any])?["code"] as? String }
}

/// Real HTTP clients: URLSession for most requests, curl where the raw bytes on the wire matter.
enum HTTP {
    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 64
        configuration.timeoutIntervalForRequest = 30
        return URLSession(configuration: configuration)
    }()

    static func request(_ method: String, _ url: String, headers: [String: String] = [:], body: Data? = nil) async throws -> HTTPResult {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body
        let (data, response) = try await self.session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw TestFailure("not an HTTP response") }
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { fields[name] = value }
        }
        return HTTPResult(status: http.statusCode, headers: fields, body: data)
    }

    /// `curl` with the given arguments; returns status, headers and the undecoded body.
    static func curl(_ arguments: [String]) async throws -> HTTPResult {
        let directory = try TemporaryDirectory()
        let headerFile = directory.file("headers")
        let bodyFile = directory.file("body")
        let result = try await Subprocess.run("/usr/bin/curl", ["-sS", "-D", headerFile, "-o", bodyFile, "--max-time", "20"] + arguments)
        guard result.status == 0 else { throw TestFailure("curl failed: \(result.standardError)") }
        let headerText = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
        var status = 0
        var headers: [String: String] = [:]
        for line in headerText.components(separatedBy: "\r\n") {
            if line.hasPrefix("HTTP/") {
                status = Int(line.split(separator: " ")[1]) ?? 0
                headers = [:]
            } else if let colon = line.firstIndex(of: ":") {
                headers[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        let body = FileManager.default.contents(atPath: bodyFile) ?? Data()
        return HTTPResult(status: status, headers: headers, body: body)
    }
}

/// Runs a program to completion, capturing its output.
enum Subprocess {
    struct Result {
        let status: Int32
        let standardOutput: String
        let standardError: String
    }

    static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        currentDirectory: String? = nil
    ) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let directory = try TemporaryDirectory()
        _ = FileManager.default.createFile(atPath: directory.file("out"), contents: nil)
        _ = FileManager.default.createFile(atPath: directory.file("err"), contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file("out")))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file("err")))
        process.standardInput = FileHandle.nullDevice
        // Wait without blocking a thread: the server under test runs on the same small concurrency pool.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            process.terminationHandler = { _ in continuation.resume() }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume()
            }
        }
        guard process.processIdentifier != 0 else { throw TestFailure("cannot start \(executable)") }
        return Result(
            status: process.terminationStatus,
            standardOutput: (try? String(contentsOfFile: directory.file("out"), encoding: .utf8)) ?? "",
            standardError: (try? String(contentsOfFile: directory.file("err"), encoding: .utf8)) ?? ""
        )
    }
}
