import ReleaseChannelTestSupport
import Foundation

/// The real `release-chan serve` binary in a child process, for what only a process can show:
/// signals, exit codes, start-up failures. It binds 127.0.0.1 on an ephemeral port, found in its log.
final class ServerProcess: Sendable {
    private let process: Process
    private let logFile: String
    let directory: TemporaryDirectory
    let port: Int
    let tcpPort: Int

    var pid: Int32 { self.process.processIdentifier }
    var output: String { (try? String(contentsOfFile: self.logFile, encoding: .utf8)) ?? "" }

    /// Starts the server and waits until it listens, at most `startTimeout`: a debug build loading a db
    /// of tens of MB beside the suite's other large tests has taken over a minute.
    init(arguments: [String], directory: TemporaryDirectory, environment: [String: String] = [:], startTimeout: Duration = .seconds(60)) async throws {
        self.directory = directory
        self.logFile = directory.file("server-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: self.logFile, contents: nil)
        let process = Process()
        process.executableURL = Fixtures.executable
        process.arguments = ["serve", "--host", "127.0.0.1", "--http-port", "0", "--log-level", "info"]
            + (arguments.contains("--tcp-port") ? [] : ["--tcp-port", "0"]) + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: self.logFile))
        process.standardError = handle
        process.standardOutput = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        let logFile = self.logFile
        func listeningPort(after marker: String, in text: String) -> Int? {
            guard let line = text.split(separator: "\n").first(where: { $0.contains(marker) }), let range = line.range(of: "port=") else {
                return nil
            }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        var port: Int?
        var tcpPort: Int?
        // Generous: with the suite's process tests starting servers in parallel on a disturbed 2-core
        // machine, a start has taken over 20 s (every server logged "listening" just after that).
        let deadline = ContinuousClock.now + startTimeout
        while port == nil || tcpPort == nil, ContinuousClock.now < deadline, process.isRunning {
            let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            port = listeningPort(after: "serving HTTP", in: text)
            tcpPort = listeningPort(after: "serving binary protocol", in: text)
            if port == nil || tcpPort == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        guard let port, let tcpPort else {
            if process.isRunning { process.terminate() }
            throw TestFailure("server did not start: \((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "")")
        }
        self.port = port
        self.tcpPort = tcpPort
    }

    deinit {
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGKILL)
        }
    }

    var baseURL: String { "http://127.0.0.1:\(self.port)" }

    func request(_ path: String, headers: [String: String] = [:]) async throws -> HTTPResult {
        try await self.request("GET", path, headers: headers)
    }

    func request(_ method: String, _ path: String, headers: [String: String] = [:], body: Data? = nil) async throws -> HTTPResult {
        try await HTTP.request(method, "\(self.baseURL)\(path)", headers: headers, body: body)
    }

    func signal(_ signal: Int32) {
        kill(self.process.processIdentifier, signal)
    }

    /// Waits for the process to exit and returns its status, or nil after the timeout.
    func waitForExit(timeout: Duration = .seconds(20)) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while self.process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        return self.process.isRunning ? nil : self.process.terminationStatus
    }
}
