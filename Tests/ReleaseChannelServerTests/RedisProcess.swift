import ReleaseChannelTestSupport
import Foundation

/// A real `redis-server` on 127.0.0.1, for the load generator's redis mode. `.ci/run` installs it.
final class RedisProcess: Sendable {
    private let process: Process
    let port: Int

    /// Starts Redis on a free port, without persistence, and waits until it answers PING.
    init(directory: TemporaryDirectory) async throws {
        // Redis cannot report an ephemeral port of its own: probe one that is free now.
        let port = try ServerSocketProbe().port
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["redis-server", "--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no", "--dir", directory.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        self.port = port
        // Generous: with the suite's process tests starting servers in parallel on a disturbed 2-core
        // machine, a start has taken over 20 s (every server logged "listening" just after that).
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline, process.isRunning {
            if try await self.command(["PING"]).standardOutput.hasPrefix("PONG") { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("redis-server did not start on port \(port) (is it installed? .ci/run installs it)")
    }

    deinit {
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGKILL)
        }
    }

    /// Runs one command with redis-cli.
    @discardableResult
    func command(_ arguments: [String]) async throws -> Subprocess.Result {
        try await Subprocess.run("/usr/bin/env", ["redis-cli", "-h", "127.0.0.1", "-p", String(self.port)] + arguments)
    }

    /// Stores `value` under every key, in one pipelined batch.
    func set(_ values: [(key: String, value: String)], directory: TemporaryDirectory) async throws {
        var commands = ""
        for (key, value) in values {
            commands += "*3\r\n$3\r\nSET\r\n$\(key.utf8.count)\r\n\(key)\r\n$\(value.utf8.count)\r\n\(value)\r\n"
        }
        let file = directory.file("redis-\(UUID().uuidString).resp")
        try Data(commands.utf8).write(to: URL(fileURLWithPath: file))
        let result = try await Subprocess.run("/bin/sh", ["-c", "redis-cli -h 127.0.0.1 -p \(self.port) --pipe < \"$0\"", file])
        guard result.status == 0 else { throw TestFailure("redis-cli --pipe failed: \(result.standardOutput)\(result.standardError)") }
    }
}
