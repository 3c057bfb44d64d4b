import Foundation
import NIOPosix
import ReleaseChannelServer
import ReleaseChannelTestSupport
import Testing

/// The HTTP idle timeout (`--http-idle-timeout`) against a real server: a connection that sends nothing
/// is closed, one whose lookups are all answered on the fast path is not (Hummingbird's own idle
/// timeout, behind the fast path, would take it for idle), a response still being written to a client
/// that reads slowly is not cut off, and one to a client that has stopped reading is.
@Suite struct HTTPIdleTimeoutTests {
    static let lookup = "GET /v1/releases/my-app/prod HTTP/1.1\r\nHost: t\r\n\r\n"

    @Test func aConnectionThatSendsNothingIsClosedAfterTheTimeout() async throws {
        try await withTestServer(configure: { $0.httpIdleTimeout = .milliseconds(500) }) { server in
            let socket = try RawSocket(port: server.port)
            let started = ContinuousClock.now
            try await socket.send(Self.lookup)
            // The answer, then the end of the stream once the connection has been idle for the timeout.
            let received = String(decoding: try await socket.readToEnd(), as: UTF8.self)
            let elapsed = ContinuousClock.now - started
            #expect(received.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(received.prefix(200))")
            #expect(received.components(separatedBy: "HTTP/1.1 ").count == 2, "one answer")
            #expect(elapsed >= .milliseconds(500), "closed after \(elapsed), before the timeout")
            // Well before the socket's own 30 s receive timeout: the server closed it.
            #expect(elapsed < .seconds(20))
        }
    }

    /// Forty lookups 100 ms apart (curl's `--rate`), twice the timeout in all, each answered by the fast
    /// path, go over one connection: the idle clock sees every byte read, whichever handler answers it.
    /// curl rather than a socket of the test's: its pace is its own, not that of a thread pool shared with
    /// the rest of the suite.
    @Test func lookupsAnsweredOnTheFastPathKeepTheConnectionOpen() async throws {
        try await withTestServer(configure: { $0.httpIdleTimeout = .seconds(2) }) { server in
            let url = "\(server.baseURL)/v1/releases/my-app/prod"
            let transfers = (0..<40).flatMap { _ in [url, "-o", "/dev/null"] }
            let result = try await Subprocess.run(
                "/usr/bin/curl",
                ["-sS", "--max-time", "60", "--rate", "10/s", "-w", "%{num_connects} %{http_code}\\n"] + transfers
            )
            #expect(result.status == 0, "\(result.standardError)")
            // One connection made for the first transfer, none for the other 39.
            let lines = result.standardOutput.split(separator: "\n")
            #expect(lines == ["1 200"] + Array(repeating: "0 200", count: 39), "\(result.standardOutput)")
        }
    }

    /// A whole db of about 15 MB, more than the sockets hold (the client's receive buffer is fixed at
    /// 256 KiB, the server's send buffer grows to 4 MiB at most), asked for by a client that then reads it
    /// slowly: 256 KiB every 100 ms for three timeouts, then the rest (in the same job, so that the reader never waits on the suite's tasks). The server's channel holds bytes to
    /// write (the fast path's or the router's) all along, so the connection is not idle, and as the
    /// client takes some of them between any two checks it has not stopped either: the whole answer
    /// arrives. Without `Connection: close` the connection is closed by the idle timeout once it is out.
    @Test(arguments: ["", "Connection: close\r\n"])
    func anAnswerToASlowReaderIsNotCutOff(header: String) async throws {
        try await Self.withLargeServer(idleTimeout: "1s") { server in
            let socket = try RawSocket(port: server.port, receiveBuffer: 256 << 10)
            try await socket.send("GET /v1/releases HTTP/1.1\r\nHost: t\r\n\(header)\r\n")
            // The slow reader's pace is the point of the test: no event marks "a while later".
            let received = try await socket.readSlowly(chunks: 30, of: 256 << 10, pause: .milliseconds(100), then: .toEnd)
            #expect(received.count > 30 << 18, "closed after \(received.count) bytes")
            let (body, length) = try Self.body(of: received)
            #expect(length > 8 << 20, "the answer must not fit in the sockets' buffers for the test to mean anything")
            #expect(body == length, "received \(body) of \(length) body bytes")
            #expect(metric("release_chan_http_stalled_connections_closed_total", in: try await server.request("/metrics").body) == 0)
        }
    }

    /// The same answer to a client that reads none of it: the connection is closed once the client has
    /// taken nothing for a timeout (at most two timeouts after it stopped), with most of the answer never
    /// sent, so that a client that stops reading does not hold the answer and the connection for good;
    /// `release_chan_http_stalled_connections_closed_total` counts it.
    @Test(arguments: ["", "Connection: close\r\n"])
    func aClientThatTakesNothingOfItsAnswerIsCutOff(header: String) async throws {
        try await Self.withLargeServer(idleTimeout: "250ms") { server in
            let socket = try RawSocket(port: server.port, receiveBuffer: 256 << 10)
            try await socket.send("GET /v1/releases HTTP/1.1\r\nHost: t\r\n\(header)\r\n")
            // The server counts the close; until then the client reads nothing.
            #expect(try await eventually {
                (metric("release_chan_http_stalled_connections_closed_total", in: try await server.request("/metrics").body) ?? 0) == 1
            })
            let started = ContinuousClock.now
            let received = try await socket.readToEnd()
            // What the sockets held, then the end of the stream: the server's close, not the socket's 30 s timeout.
            #expect(ContinuousClock.now - started < .seconds(20))
            let (body, length) = try Self.body(of: received)
            #expect(body < length, "the whole answer (\(length) bytes) arrived")
        }
    }

    /// A server process on a db of about 15 MB. A process of its own, and the db made on the blocking-call
    /// pool: both take seconds in a debug build, which, on the 2 threads of the test process's Swift
    /// concurrency pool, would hold up every other test's tasks (an SDK client once waited 30 s for its
    /// first connection).
    static func withLargeServer(idleTimeout: String, _ body: (ServerProcess) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        try await blockingCalls.runIfActive { try Fixtures.write(Fixtures.bytes(containers: 20_000), to: path) }
        let server = try await ServerProcess(arguments: ["--db", path, "--http-idle-timeout", idleTimeout, "--access-log", "false"], directory: directory, startTimeout: .seconds(240))
        try await body(server)
    }

    /// The body bytes received after the head, and the head's Content-Length.
    static func body(of received: [UInt8]) throws -> (received: Int, length: Int) {
        let headEnd = try #require(received.firstRange(of: Array("\r\n\r\n".utf8)), "no complete head in \(received.count) bytes")
        let head = String(decoding: received[..<headEnd.lowerBound], as: UTF8.self)
        let length = try #require(Self.contentLength(head), "\(head)")
        return (received.count - headEnd.upperBound, length)
    }

    static func contentLength(_ head: String) -> Int? {
        head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }
    }
}
