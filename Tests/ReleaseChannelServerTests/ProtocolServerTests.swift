import ReleaseChannelTestSupport
import Foundation
import ReleaseChannelModel
import ReleaseChannelServer
import Testing

/// The binary protocol server through raw sockets: conformance vectors byte for byte, and the documented
/// reaction to each kind of hostile input, while other connections keep working.
@Suite struct ProtocolServerTests {
    /// Frames of the shared conformance fixture, by name.
    static let vectors: [String: [UInt8]] = {
        let url = Fixtures.repositoryRoot.appendingPathComponent("Tests/Fixtures/protocol-vectors.json")
        guard let data = try? Data(contentsOf: url), let list = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]] else { return [:] }
        var vectors: [String: [UInt8]] = [:]
        for entry in list {
            guard let name = entry["name"] as? String, let hex = entry["hex"] as? String else { continue }
            vectors[name] = stride(from: 0, to: hex.count, by: 2).map { offset in
                let start = hex.index(hex.startIndex, offsetBy: offset)
                return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16) ?? 0
            }
        }
        return vectors
    }()

    static func vector(_ name: String) throws -> [UInt8] {
        try #require(Self.vectors[name], "missing vector \(name)")
    }

    /// A server on the bundled db, whose revision the vectors use.
    func withBundledServer(configure: (inout ServerConfiguration) -> Void = { _ in }, _ body: (TestServer) async throws -> Void) async throws {
        let bytes = try Array(Data(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("db/db.json")))
        try await withTestServer(database: bytes, configure: configure, body)
    }

    func handshake(_ socket: RawSocket) async throws {
        try await socket.send(try Self.vector("hello-request"))
        let reply = try #require(try await socket.readFrame())
        // Everything but the revision (bytes 12..<20: the db differs per test) and loaded_at_ms (the last
        // 8 bytes) is fixed.
        let expected = try Self.vector("hello-reply")
        #expect(reply.count == expected.count)
        #expect(Array(reply[0..<12]) == Array(expected[0..<12]))
        #expect(Array(reply.dropLast(8).dropFirst(20)) == Array(expected.dropLast(8).dropFirst(20)))
    }

    @Test func repliesMatchTheConformanceVectors() async throws {
        try await self.withBundledServer { server in
            let socket = try RawSocket(port: server.tcpPort)
            try await self.handshake(socket)
            let exchanges = [
                ("ping-request", "ping-reply"),
                ("get-request", "get-reply"),
                ("get-request-unknown-channel", "get-reply-bad-request"),
                ("get-request-unknown-container", "get-reply-not-found"),
                ("get-container-request", "get-container-reply"),
                ("batch-get-request", "batch-get-reply"),
                ("batch-get-request-invalid-name", "batch-get-reply-invalid-name"),
                ("unknown-opcode-request", "unknown-opcode-reply"),
                ("watch-request", "watch-reply"),
                ("unwatch-request", "unwatch-reply"),
            ]
            for (request, reply) in exchanges {
                try await socket.send(try Self.vector(request))
                #expect(try await socket.readFrame() == (try Self.vector(reply)), "\(request)")
            }
            // REVISION: fixed header, counts of the bundled db (loaded_at varies).
            try await socket.send(try Self.vector("revision-request"))
            let revision = try #require(try await socket.readFrame())
            let expected = try Self.vector("revision-reply")
            #expect(Array(revision.prefix(20)) == Array(expected.prefix(20)))
            #expect(Array(revision.suffix(8)) == Array(expected.suffix(8)))
        }
    }

    @Test func snapshotCarriesTheGzippedCanonicalDatabase() async throws {
        try await self.withBundledServer { server in
            let socket = try RawSocket(port: server.tcpPort)
            try await self.handshake(socket)
            try await socket.send(try Self.vector("snapshot-request"))
            let frame = try #require(try await socket.readFrame())
            #expect(frame[6] == 0x05, "REPLY | COMPRESSED")
            let directory = try TemporaryDirectory()
            try Data(frame.dropFirst(20)).write(to: URL(fileURLWithPath: directory.file("db.json.gz")))
            #expect(try await Subprocess.run("/bin/gzip", ["-d", directory.file("db.json.gz")]).status == 0)
            let bundled = try Data(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("db/db.json"))
            #expect(FileManager.default.contents(atPath: directory.file("db.json")) == bundled)
        }
    }

    @Test func watchPushesEverySwapBetweenReplies() async throws {
        try await withTestServer(configure: {
            $0.reloadInterval = .seconds(3600)
            $0.watchFile = false
        }) { server in
            let socket = try RawSocket(port: server.tcpPort)
            try await self.handshake(socket)
            try await socket.send(try Self.vector("watch-request"))
            #expect(try await socket.readFrame()?[5] == 0x08)
            for tag in ["w1", "w2", "w3"] {
                try Fixtures.write(Fixtures.bytes(containers: 3, tag: tag), to: server.databasePath)
                #expect(try await server.request("POST", "/v1/reload").json["changed"] as? Bool == true)
                let push = try #require(try await socket.readFrame())
                #expect(push[5] == 0x20 && push[6] == 0x02, "a REVISION_CHANGED push")
                #expect(Array(push[8..<12]) == [0, 0, 0, 0], "request id 0")
                let revision = push[12..<20].map { String(format: "%02x", $0) }.joined()
                #expect(revision == Fixtures.revision(containers: 3, tag: tag))
            }
        }
    }

    @Test(arguments: [
        ("first frame not HELLO", "get-request-before-hello", "get-reply-handshake-required"),
        ("no common version", "hello-request-unsupported-version", "hello-reply-unsupported-version"),
    ])
    func handshakeFailuresAnswerThenClose(_ name: String, request: String, reply: String) async throws {
        try await self.withBundledServer { server in
            let socket = try RawSocket(port: server.tcpPort)
            try await socket.send(try Self.vector(request))
            #expect(try await socket.readFrame() == (try Self.vector(reply)))
            #expect(try await socket.isClosedByPeer())
        }
    }

    /// A client that goes on sending after a request the server answers with an error and a close, and
    /// reads only once it has stopped, still gets that reply and then the end of the stream. The server
    /// closed at once: the client's next bytes got an RST, and its kernel dropped the reply it had not
    /// read yet.
    @Test func aClientStillSendingAfterAnErrorStillGetsIt() async throws {
        try await self.withBundledServer { server in
            let socket = try RawSocket(port: server.tcpPort)
            try await socket.send(try Self.vector("get-request-before-hello"))
            let sent = try await socket.sendSlowly(Array(repeating: "more", count: 10), pause: .milliseconds(100))
            #expect(sent == 10, "the server refused bytes it should have taken and dropped")
            #expect(try await socket.readFrame() == (try Self.vector("get-reply-handshake-required")))
            #expect(try await socket.isClosedByPeer())
        }
    }

    /// Each kind of hostile input gets its documented reaction, and a well-behaved connection opened
    /// before it keeps being served.
    @Test(arguments: ["oversize", "short-length", "garbage", "bad-version", "bad-flags", "opcode-zero", "trickle", "truncated-then-close", "bad-body"])
    func hostileInputGetsTheDocumentedReaction(kind: String) async throws {
        try await self.withBundledServer { server in
            let bystander = try RawSocket(port: server.tcpPort)
            try await self.handshake(bystander)
            let socket = try RawSocket(port: server.tcpPort)
            switch kind {
            case "oversize":
                // Only the length prefix is sent: the server must refuse from the header alone.
                try await socket.send([0x00, 0x10, 0x00, 0x00])
                #expect(try await socket.readFrame() == (try Self.vector("error-frame-too-large")))
                #expect(try await socket.isClosedByPeer())
            case "short-length":
                try await socket.send([0x00, 0x00, 0x00, 0x03, 1, 2, 3])
                let frame = try #require(try await socket.readFrame())
                #expect(frame[5] == 0x00 && frame[7] == 2, "ERROR BAD_FRAME")
                #expect(try await socket.isClosedByPeer())
            case "garbage":
                try await socket.send(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
                let frame = try #require(try await socket.readFrame())
                #expect(frame[5] == 0x00 && frame[7] == 5, "ERROR FRAME_TOO_LARGE ('GET ' read as a length)")
                #expect(try await socket.isClosedByPeer())
            case "bad-version":
                try await self.handshake(socket)
                var ping = try Self.vector("ping-request")
                ping[4] = 9
                try await socket.send(ping)
                let frame = try #require(try await socket.readFrame())
                #expect(frame[5] == 0x00 && frame[7] == 3, "ERROR UNSUPPORTED_VERSION")
                #expect(try await socket.isClosedByPeer())
            case "bad-flags":
                try await self.handshake(socket)
                var ping = try Self.vector("ping-request")
                ping[6] = 0x01
                try await socket.send(ping)
                let frame = try #require(try await socket.readFrame())
                #expect(frame[5] == 0x02 && frame[7] == 2, "PING reply BAD_FRAME")
                #expect(try await socket.isClosedByPeer())
            case "opcode-zero":
                // A reply to opcode 0x00 would read as an ERROR frame, so the server sends one (request id 0).
                try await self.handshake(socket)
                var ping = try Self.vector("ping-request")
                ping[5] = 0x00
                try await socket.send(ping)
                let frame = try #require(try await socket.readFrame())
                #expect(frame[5] == 0x00 && frame[6] == 0x01 && frame[7] == 2, "ERROR BAD_FRAME")
                #expect(Array(frame[8..<12]) == [0, 0, 0, 0], "request id 0")
                #expect(try await socket.isClosedByPeer())
            case "trickle":
                for byte in try Self.vector("hello-request") { try await socket.send([byte]) }
                #expect(try await socket.readFrame() != nil)
                for byte in try Self.vector("get-request") { try await socket.send([byte]) }
                #expect(try await socket.readFrame() == (try Self.vector("get-reply")))
            case "truncated-then-close":
                try await self.handshake(socket)
                try await socket.send(Array(try Self.vector("get-request").prefix(10)))
                socket.finishSending()
                #expect(try await socket.readToEnd().isEmpty, "a partial frame gets no reply")
            default:
                try await self.handshake(socket)
                // A GET whose string length runs past the body: BAD_REQUEST, connection stays open.
                try await socket.send([0, 0, 0, 20, 1, 3, 0, 0, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0x61, 0x62])
                let frame = try #require(try await socket.readFrame())
                #expect(frame[5] == 0x03 && frame[7] == 6, "GET reply BAD_REQUEST")
                try await socket.send(try Self.vector("ping-request"))
                #expect(try await socket.readFrame() == (try Self.vector("ping-reply")))
            }
            try await bystander.send(try Self.vector("get-request"))
            #expect(try await bystander.readFrame() == (try Self.vector("get-reply")), "other connections are unaffected")
        }
    }

    /// A client that shuts down its sending side gets every reply to the frames it sent, then the server
    /// closes (§10.8): one SNAPSHOT reply of a 1,000-container db (27 KB), and 400 of them (11 MB to a
    /// client whose receive buffer is 64 KiB, far more than the sockets and the connection's write buffer
    /// hold). The client reads nothing for half a second after its half-close, so that the server takes
    /// the end of the input while frames wait behind backpressure (nothing outside the server shows that
    /// moment, so there is no event to wait for); those frames must still be answered.
    @Test(arguments: [1, 400]) func aHalfCloseIsAnsweredInFull(requests: Int) async throws {
        try await withTestServer(database: Fixtures.bytes(containers: 1000)) { server in
            let socket = try RawSocket(port: server.tcpPort, receiveBuffer: 64 << 10)
            try await self.handshake(socket)
            try await socket.send(Self.snapshotRequests(1...requests))
            socket.finishSending()
            try await Task.sleep(for: .milliseconds(500))
            let received = try await socket.readToEnd()
            let replies = try Self.snapshotReplyIDs(in: received)
            #expect(replies == Array(1...UInt32(requests)), "\(received.count) bytes received")
            // The read above ended at the server's close, not at the socket's read timeout.
            #expect(try await socket.isClosedByPeer())
        }
    }

    /// Graceful shutdown answers every request a connection has read before it closes (§10.8), here 400
    /// SNAPSHOTs whose 11 MB of replies wait behind backpressure when SIGTERM arrives (their client reads
    /// one reply, then nothing until the server shuts down).
    @Test func aGracefulShutdownAnswersWhatWasRead() async throws {
        let directory = try TemporaryDirectory()
        try Fixtures.write(Fixtures.bytes(containers: 1000), to: directory.file("db.json"))
        let server = try await ServerProcess(arguments: ["--db", directory.file("db.json"), "--access-log", "false"], directory: directory)
        let socket = try RawSocket(port: server.tcpPort, receiveBuffer: 64 << 10)
        try await self.handshake(socket)
        // 8,000 bytes in one send: the server reads them all in the read that answers the first.
        try await socket.send(Self.snapshotRequests(1...400))
        let first = try #require(try await socket.readFrame())
        server.signal(SIGTERM)
        let received = try await socket.readToEnd()
        let replies = try Self.snapshotReplyIDs(in: first + received)
        #expect(replies == Array(1...400), "\(first.count + received.count) bytes received")
        #expect(try await server.waitForExit() == 0, "\(server.output.suffix(2000))")
    }

    /// SNAPSHOT requests (0x07, no body: length 16, version 1, flags and status 0, the id, revision 0).
    static func snapshotRequests(_ ids: ClosedRange<Int>) -> [UInt8] {
        ids.flatMap { id in
            [0, 0, 0, 16, 1, 0x07, 0, 0] + withUnsafeBytes(of: UInt32(id).bigEndian, Array.init) + [UInt8](repeating: 0, count: 8)
        }
    }

    /// The request ids of the OK SNAPSHOT replies that make up `bytes`, which must end with the last one.
    static func snapshotReplyIDs(in bytes: [UInt8]) throws -> [UInt32] {
        var offset = 0
        var ids: [UInt32] = []
        while offset + 4 <= bytes.count {
            let length = Int(UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3]))
            guard offset + 4 + length <= bytes.count else { break }
            try #require(bytes[offset + 5] == 0x07 && bytes[offset + 7] == 0, "a SNAPSHOT reply with status OK at \(offset)")
            ids.append(bytes[(offset + 8)..<(offset + 12)].reduce(0) { $0 << 8 | UInt32($1) })
            offset += 4 + length
        }
        #expect(offset == bytes.count, "\(bytes.count - offset) bytes after the last whole reply")
        return ids
    }

    /// A GET frame: the 20-byte header (version 1, request id 9), then `container` and `channel` as `str`s.
    static func getFrame(container: String, channel: String) -> [UInt8] {
        func str(_ text: String) -> [UInt8] { [UInt8(text.utf8.count >> 8), UInt8(text.utf8.count & 0xFF)] + Array(text.utf8) }
        let body = str(container) + str(channel)
        let length = UInt32(16 + body.count)
        return [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), 1, 0x03, 0, 0, 0, 0, 0, 9]
            + [UInt8](repeating: 0, count: 8) + body
    }

    /// `tcpMaximumFrameBytes` (`--tcp-max-frame`) is the largest frame a client may send: the HELLO reply
    /// announces it, a frame of exactly that size is read and answered, and one a byte larger is refused.
    @Test func theMaximumFrameIsTheConfiguredOne() async throws {
        try await self.withBundledServer(configure: { $0.tcpMaximumFrameBytes = 2048 }) { server in
            let socket = try RawSocket(port: server.tcpPort)
            try await socket.send(try Self.vector("hello-request"))
            let hello = try #require(try await socket.readFrame())
            #expect(Array(hello[21..<25]) == [0x00, 0x00, 0x08, 0x00], "max_frame 2048")
            // 20 header bytes + (2 + 2020) + (2 + 4) = 2048: read, and answered BAD_REQUEST (not a DNS label).
            let largest = Self.getFrame(container: String(repeating: "a", count: 2020), channel: "prod")
            #expect(largest.count == 2048)
            try await socket.send(largest)
            let answer = try #require(try await socket.readFrame())
            #expect(answer[5] == 0x03 && answer[7] == 6, "GET reply BAD_REQUEST")
            try await socket.send(Self.getFrame(container: String(repeating: "a", count: 2021), channel: "prod"))
            let refusal = try #require(try await socket.readFrame())
            #expect(refusal[5] == 0x00 && refusal[7] == 5, "ERROR FRAME_TOO_LARGE")
            #expect(try await socket.isClosedByPeer())
        }
    }

    @Test func connectionsOverTheCapAreTurnedAway() async throws {
        try await self.withBundledServer(configure: { $0.tcpMaximumConnections = 2 }) { server in
            let first = try RawSocket(port: server.tcpPort)
            try await self.handshake(first)
            let second = try RawSocket(port: server.tcpPort)
            try await self.handshake(second)
            let third = try RawSocket(port: server.tcpPort)
            let refusal = try #require(try await third.readFrame())
            #expect(refusal[5] == 0x00 && refusal[7] == 7, "ERROR BUSY")
            #expect(String(decoding: refusal.dropFirst(22), as: UTF8.self) == "too many connections (limit 2)")
            #expect(try await third.isClosedByPeer())
            try await first.send(try Self.vector("ping-request"))
            #expect(try await first.readFrame() == (try Self.vector("ping-reply")))
        }
    }

    /// The connections gauge is the number of connections open after waves of connections opening and
    /// closing at once on every event loop: the limiter sets it under the lock of the count. (Set from a
    /// count read after the update, a late write of an older count stayed until the next connect or close.)
    @Test func theConnectionsGaugeIsTheNumberOfOpenConnections() async throws {
        try await self.withBundledServer { server in
            func gauge() async throws -> Double? {
                metric("release_chan_tcp_connections", in: try await server.request("/metrics").body)
            }
            for _ in 0..<5 {
                var sockets = try (0..<40).map { _ in try RawSocket(port: server.tcpPort) }
                #expect(try await eventually { try await gauge() == 40 })
                sockets.removeLast(30)
                #expect(try await eventually { try await gauge() == 10 })
                sockets.removeAll()
                #expect(try await eventually { try await gauge() == 0 })
            }
        }
    }

    /// A connection that has sent HELLO and SNAPSHOT, with its receive buffer fixed at 256 KiB (this
    /// machine kind lets one autotune to 32 MiB), so that most of a large reply waits in the server's
    /// channel.
    func requestSnapshot(tcpPort: Int) async throws -> RawSocket {
        let socket = try RawSocket(port: tcpPort, receiveBuffer: 256 << 10)
        try await self.handshake(socket)
        try await socket.send(try Self.vector("snapshot-request"))
        return socket
    }

    /// Two SNAPSHOTs of a db larger than the sockets hold, on two connections sending no frame after
    /// them. One client reads slowly (256 KiB every 100 ms for three idle timeouts): it takes some of
    /// the reply between any two checks, so the idle timeout does not cut it off, and the whole reply
    /// arrives. (Its PINGs would not be read meanwhile: reads are held while replies wait, §10.5.) The
    /// other reads nothing: it is closed a timeout or two after its last frame, with most of the reply
    /// never sent, and counted in `release_chan_tcp_stalled_connections_closed_total`.
    @Test func aSnapshotIsCutOffOnlyOnceItsClientTakesNoneOfIt() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.json")
        // `db generate`'s records carry digests, which do not compress (the test fixtures' records compress
        // thirty-fold): its gzip form, the reply, is about 10 MB, more than the sockets hold. Made and served
        // by processes of their own: both take seconds in a debug build, which, on the 2 threads of the test
        // process's Swift concurrency pool, would hold up every other test's tasks.
        let generated = try await Subprocess.run(Fixtures.executable.path, ["db", "generate", "--containers", "32000", "--seed", "1", "--output", path])
        try #require(generated.status == 0, "\(generated.standardError)")
        let server = try await ServerProcess(
            arguments: ["--db", path, "--tcp-idle-timeout", "1s", "--access-log", "false"],
            directory: directory,
            startTimeout: .seconds(240)
        )
        let slow = try await self.requestSnapshot(tcpPort: server.tcpPort)
        let stalled = try await self.requestSnapshot(tcpPort: server.tcpPort)
        // The rest of the reply in the same job as the slow part: a reader that waited for one of the
        // suite's tasks in between could stop for longer than a timeout.
        let received = try await slow.readSlowly(chunks: 30, of: 256 << 10, pause: .milliseconds(100), then: .restOfFrame)
        #expect(received.count > 30 << 18, "closed after \(received.count) bytes")
        let length = try Self.frameLength(received)
        #expect(length > 9 << 20, "the reply (\(length) bytes) must not fit in the sockets' buffers for the test to mean anything")
        #expect(received.count == 4 + length, "received \(received.count) of \(4 + length) bytes")
        #expect(received[5] == 0x07 && received[7] == 0, "a SNAPSHOT reply with status OK")

        // Three timeouts have passed for the stalled client too: what the sockets held, then the end
        // of the stream (the server's close, well before the socket's own 30 s timeout).
        let started = ContinuousClock.now
        let partial = try await stalled.readToEnd()
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(partial.count < 4 + (try Self.frameLength(partial)), "the whole reply arrived")
        #expect(metric("release_chan_tcp_stalled_connections_closed_total", in: try await server.request("/metrics").body) == 1)
    }

    static func frameLength(_ bytes: [UInt8]) throws -> Int {
        try #require(bytes.count >= 4, "\(bytes.count) bytes")
        return Int(UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3]))
    }

    @Test func idleConnectionsAreClosed() async throws {
        try await self.withBundledServer(configure: { $0.tcpIdleTimeout = .milliseconds(300) }) { server in
            // No frame at all: the server closes the connection after the idle timeout, sending nothing.
            let socket = try RawSocket(port: server.tcpPort)
            let started = ContinuousClock.now
            #expect(try await socket.readToEnd().isEmpty)
            // Well before the socket's own 30 s receive timeout: the server closed it.
            #expect(ContinuousClock.now - started < .seconds(20))
        }
    }

    @Test func tenThousandPipelinedRequestsOnOneConnectionAreAllAnswered() async throws {
        try await self.withBundledServer { server in
            let socket = try RawSocket(port: server.tcpPort)
            try await self.handshake(socket)
            let get = try Self.vector("get-request")
            var burst: [UInt8] = []
            for id in 1...10_000 {
                var frame = get
                frame[8] = UInt8(id >> 24 & 0xFF)
                frame[9] = UInt8(id >> 16 & 0xFF)
                frame[10] = UInt8(id >> 8 & 0xFF)
                frame[11] = UInt8(id & 0xFF)
                burst += frame
            }
            async let sent: Void = socket.send(burst)
            let expected = try Self.vector("get-reply")
            var mismatches = 0
            for id in 1...10_000 {
                guard let reply = try await socket.readFrame() else {
                    Issue.record("connection closed after \(id - 1) replies")
                    break
                }
                let replyID = Int(reply[8]) << 24 | Int(reply[9]) << 16 | Int(reply[10]) << 8 | Int(reply[11])
                if replyID != id || Array(reply[12...]) != Array(expected[12...]) { mismatches += 1 }
            }
            try await sent
            #expect(mismatches == 0)
        }
    }
}
