import Foundation
import NIOPosix
import ReleaseChannelServer
import ReleaseChannelTestSupport
import Testing

/// The request-head timeout (`--http-request-head-timeout`) against a real server: a client that sends
/// a head a few bytes at a time, each before the idle timeout would close the connection, is answered
/// 408 and cut off once the head has taken longer than the timeout; each head has its own clock; and the
/// 408 never cuts into a response still being written before it.
///
/// Every test runs twice: with the heads read by the fast path's scanner, and with the connection's
/// bytes passed through to NIO's decoder (after a first request with a body, which the scanner leaves
/// to the decoder from there on), where the decoder's parts tell where heads end.
@Suite struct HTTPRequestHeadTimeoutTests {
    /// A request the scanner reads (none), or one that sends the connection to the decoder, and what
    /// its answer starts with.
    static let openings: [String] = ["", "POST /v1/reload HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}"]

    @Test(arguments: Self.openings)
    func aHeadSentAFewBytesAtATimeIsAnswered408AndClosed(opening: String) async throws {
        try await withTestServer(configure: {
            $0.httpRequestHeadTimeout = .seconds(1)
            $0.httpIdleTimeout = .seconds(60)
        }) { server in
            let socket = try RawSocket(port: server.port)
            try await socket.send(opening + "GET /v1/releases/my-app/prod HTTP/1.1\r\n")
            // A header line every 200 ms for 20 s, each well within the idle timeout: without the head
            // timeout the connection would outlive the trickle (and the socket's 30 s read timeout).
            async let sent = socket.sendSlowly(Array(repeating: "X-Slow: 1\r\n", count: 100), pause: .milliseconds(200))
            let started = ContinuousClock.now
            let received = String(decoding: try await socket.readToEnd(), as: UTF8.self)
            let elapsed = ContinuousClock.now - started
            let piecesSent = try await sent
            #expect(piecesSent < 100, "the server took the whole trickle")
            #expect(elapsed < .seconds(15), "closed after \(elapsed)")
            let answers = received.components(separatedBy: "HTTP/1.1 ").dropFirst()
            #expect(answers.count == (opening.isEmpty ? 1 : 2), "\(received)")
            let timeout = try #require(answers.last)
            #expect(timeout.hasPrefix("408 Request Timeout\r\n"), "\(received)")
            #expect(timeout.contains("\r\nConnection: close\r\n"))
            #expect(timeout.contains("\r\nContent-Type: application/json; charset=utf-8\r\n"))
            let body = try #require(timeout.components(separatedBy: "\r\n\r\n").last)
            #expect(body == #"{"error":{"code":"request_timeout","message":"the request head was not complete within 1s"}}"#)
            #expect(HTTPIdleTimeoutTests.contentLength(timeout) == body.utf8.count)
            if !opening.isEmpty { #expect(answers.first?.hasPrefix("200 OK\r\n") == true, "\(received)") }
            let metrics = try await server.request("/metrics").body
            #expect(metric("release_chan_http_request_head_timeouts_total", in: metrics) == 1)
        }
    }

    /// A client that goes on sending its head after the 408 and reads only once it has stopped still gets
    /// the answer before it, the 408 and the end of the stream. The server closed at once: the client's next
    /// line got an RST, and its kernel dropped both responses, received and not yet read.
    @Test func aClientStillSendingAfterThe408StillGetsEveryResponse() async throws {
        try await withTestServer(configure: {
            $0.httpRequestHeadTimeout = .milliseconds(300)
            $0.httpIdleTimeout = .seconds(60)
        }) { server in
            let socket = try RawSocket(port: server.port)
            try await socket.send("GET /v1/health HTTP/1.1\r\nHost: t\r\n\r\nGET /v1/releases/my-app/prod HTTP/1.1\r\n")
            // Lines for 2 s, well past the 300 ms timeout, none of the answers read meanwhile.
            let sent = try await socket.sendSlowly(Array(repeating: "X-Slow: 1\r\n", count: 20), pause: .milliseconds(100))
            #expect(sent == 20, "the server refused lines it should have taken and dropped")
            let received = String(decoding: try await socket.readToEnd(), as: UTF8.self)
            let answers = received.components(separatedBy: "HTTP/1.1 ").dropFirst()
            #expect(answers.count == 2, "\(received)")
            #expect(answers.first?.hasPrefix("200 OK\r\n") == true, "\(received)")
            #expect(answers.last?.hasPrefix("408 Request Timeout\r\n") == true, "\(received)")
            #expect(received.hasSuffix(#"{"error":{"code":"request_timeout","message":"the request head was not complete within 300ms"}}"#), "\(received)")
        }
    }

    /// Three requests on one connection, each head sent in two pieces 1.5 s apart: every head arrives
    /// within the 3 s timeout, the three together take longer. All three are answered, none with a 408.
    /// (Margins of 1.5 s both ways: with 0.8 s, a piece held up by the whole suite on 2 cores once
    /// made a head late.)
    @Test(arguments: Self.openings)
    func eachHeadHasItsOwnClock(opening: String) async throws {
        try await withTestServer(configure: {
            $0.httpRequestHeadTimeout = .seconds(3)
            $0.httpIdleTimeout = .seconds(60)
        }) { server in
            let socket = try RawSocket(port: server.port)
            var pieces = [opening + "GET /v1/releases/my-app/prod HTTP/1.1\r\n"]
            for request in 0..<3 {
                pieces.append("Host: t\r\n" + (request == 2 ? "Connection: close\r\n\r\n" : "\r\nGET /v1/releases/my-app/prod HTTP/1.1\r\n"))
            }
            let sent = try await socket.sendSlowly(pieces, pause: .milliseconds(1500))
            #expect(sent == pieces.count)
            let received = String(decoding: try await socket.readToEnd(), as: UTF8.self)
            let answers = received.components(separatedBy: "HTTP/1.1 ").dropFirst()
            let expected = (opening.isEmpty ? 0 : 1) + 3
            #expect(answers.count == expected, "\(received)")
            #expect(answers.allSatisfy { $0.hasPrefix("200 OK\r\n") }, "\(received)")
            let metrics = try await server.request("/metrics").body
            #expect(metric("release_chan_http_request_head_timeouts_total", in: metrics) == 0)
        }
    }

    /// A whole db of about 10 MB, answered by the router (the client asks without gzip, so the router
    /// inflates the gzip form as it writes), to a client that reads none of it while it sends its next
    /// head a line at a time for longer than the timeout. The 408 waits until the client has read the
    /// whole answer, then follows it: the body arrives whole and intact. Written as soon as the head
    /// timed out, the 408's bytes would have landed inside the body.
    /// The two cases one after the other: each runs a server process on a 10 MB db beside the suite's
    /// other large tests, whose server starts must not be held up past their own timeouts.
    @Test(.serialized, arguments: Self.openings)
    func the408FollowsTheResponseBeforeIt(opening: String) async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        let database = try await blockingCalls.runIfActive { Fixtures.bytes(containers: 12_000) }
        try Fixtures.write(database, to: path)
        let server = try await ServerProcess(
            arguments: ["--db", path, "--http-request-head-timeout", "500ms", "--http-idle-timeout", "60s", "--access-log", "false"],
            directory: directory,
            startTimeout: .seconds(240)
        )
        let socket = try RawSocket(port: server.port, receiveBuffer: 256 << 10)
        try await socket.send(opening + "GET /v1/releases HTTP/1.1\r\nHost: t\r\n\r\nGET /v1/health HTTP/1.1\r\n")
        // Three times the timeout of header lines. The answer is left unread (the sockets hold far less of it)
        // until the head has timed out, with the 408 waiting behind it; then it is read while the lines still
        // go out. Read only after the last line, the answer once took longer than the 5 s a closing
        // connection gives its last bytes on a loaded machine, and was cut off.
        async let sent = socket.sendSlowly(Array(repeating: "X-Slow: 1\r\n", count: 15), pause: .milliseconds(100))
        // No event shows the head's timeout from outside before the answer is taken: the timeout counter and
        // the 408 come once it has been. 1 s is past it (the clock started with the first bytes sent).
        try await Task.sleep(for: .seconds(1))
        let received = try await socket.readToEnd()
        _ = try await sent
        // Ranges and counts are worked out before the expectations: one that printed a 10 MB array on
        // failure would take minutes.
        var rest = received[...]
        if !opening.isEmpty {
            let reload = rest.firstRange(of: Array("}HTTP/1.1 ".utf8))
            let answerAfterReload = try #require(reload, "no answer after the reload's")
            rest = rest[(answerAfterReload.lowerBound + 1)...]
        }
        let headEnd = try #require(rest.firstRange(of: Array("\r\n\r\n".utf8)) as Range<Int>?, "no complete head")
        let head = String(decoding: rest[..<headEnd.lowerBound], as: UTF8.self)
        #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(head)")
        let length = try #require(HTTPIdleTimeoutTests.contentLength(head), "\(head)")
        #expect(length > 8 << 20, "the answer must not fit in the sockets' buffers for the test to mean anything")
        let bodyBytes = rest.count - (headEnd.upperBound - rest.startIndex)
        try #require(bodyBytes >= length, "received \(bodyBytes) bytes after the head of a \(length)-byte answer")
        // A debug build compares 10 MB for a second or more: on the blocking-call pool, not on the two
        // threads the whole suite's tasks share.
        let bodyRange = headEnd.upperBound..<(headEnd.upperBound + length)
        let intact = try await blockingCalls.runIfActive { database.elementsEqual(received[bodyRange]) }
        #expect(intact, "the body is not the db file, byte for byte")
        let after = String(decoding: rest[(headEnd.upperBound + length)...], as: UTF8.self)
        #expect(after.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(after.prefix(300))")
        #expect(after.hasSuffix(#"{"error":{"code":"request_timeout","message":"the request head was not complete within 500ms"}}"#))
    }

    /// A reload whose body never completes (2 of 5 bytes) was held in the router for good: the idle
    /// timeout leaves a request the router has in hand alone, so such connections could use up the
    /// connection cap. Its body is timed like a head: 408, closed, and no reload carried out.
    @Test(arguments: Self.openings)
    func aBodyThatNeverCompletesIsAnswered408AndClosed(opening: String) async throws {
        try await withTestServer(configure: {
            $0.httpRequestHeadTimeout = .seconds(1)
            $0.httpIdleTimeout = .seconds(60)
            $0.watchFile = false
        }) { server in
            let socket = try RawSocket(port: server.port, timeout: .seconds(20))
            try await socket.send(opening + "POST /v1/reload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nab")
            let started = ContinuousClock.now
            let received = String(decoding: try await socket.readToEnd(), as: UTF8.self)
            #expect(ContinuousClock.now - started < .seconds(10), "closed after \(ContinuousClock.now - started)")
            let answers = received.components(separatedBy: "HTTP/1.1 ").dropFirst()
            #expect(answers.count == (opening.isEmpty ? 1 : 2), "\(received)")
            let timeout = try #require(answers.last)
            #expect(timeout.hasPrefix("408 Request Timeout\r\n"), "\(received)")
            #expect(timeout.contains("\r\nConnection: close\r\n"))
            #expect(timeout.hasSuffix(#"{"error":{"code":"request_timeout","message":"the request body was not complete within 1s"}}"#))
            let health = try await server.request("/v1/health")
            let reloads = try #require(health.json["reloads"] as? [String: Any])
            #expect(reloads["succeeded"] as? Int == (opening.isEmpty ? 1 : 2), "the timed-out reload was carried out")
            let metrics = try await server.request("/metrics").body
            #expect(metric("release_chan_http_request_head_timeouts_total", in: metrics) == 1)
        }
    }

    /// A body the route does not wait for: the request is answered at once, and the connection, which
    /// would go on waiting for the rest of the body, is closed once the body is late, with no second answer.
    /// The timeout is 5 s, so that the answer comes first even on a loaded machine (with 1 s, the whole
    /// suite on 2 cores once held the answer back past it, and the request got the 408 instead).
    @Test func aLateBodyOfAnAnsweredRequestClosesTheConnection() async throws {
        try await withTestServer(configure: {
            $0.httpRequestHeadTimeout = .seconds(5)
            $0.httpIdleTimeout = .seconds(60)
        }) { server in
            let socket = try RawSocket(port: server.port, timeout: .seconds(40))
            try await socket.send("GET /v1/health HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nab")
            let started = ContinuousClock.now
            let received = String(decoding: try await socket.readToEnd(), as: UTF8.self)
            #expect(ContinuousClock.now - started < .seconds(30), "closed after \(ContinuousClock.now - started)")
            let answers = received.components(separatedBy: "HTTP/1.1 ").dropFirst()
            #expect(answers.count == 1, "\(received)")
            #expect(answers.first?.hasPrefix("200 OK\r\n") == true, "\(received)")
        }
    }
}
