import NIOCore
import Testing

@testable import release_chan_bench

/// The load generator's HTTP response reader on bytes as a socket may deliver them: whole, cut
/// anywhere, pipelined, and in the framings an HTTP/1.1 server may choose (the load generator's runs
/// against the real server are in LoadGeneratorTests).
@Suite struct HTTPRepliesTests {
    /// Feeds `pieces` one after another as reads, and returns every reply read, with the bytes left.
    func replies(_ pieces: [String]) throws -> (replies: [String], left: Int) {
        var reader = HTTPReplies()
        var buffer = ByteBuffer()
        var replies: [String] = []
        for piece in pieces {
            buffer.writeString(piece)
            while let reply = try reader.next(in: &buffer) {
                switch reply {
                case .answer(let ok): replies.append(ok ? "ok" : "error")
                case .unsolicited: replies.append("interim")
                }
            }
        }
        return (replies, buffer.readableBytes)
    }

    static let ok = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"image\":\"x\"}"
    static let notFound = "HTTP/1.1 404 Not Found\r\ncontent-length:  2 \r\n\r\n{}"

    @Test func readsPipelinedResponsesFramedByTheirLength() throws {
        let read = try self.replies([Self.ok + Self.notFound + Self.ok])
        #expect(read.replies == ["ok", "error", "ok"])
        #expect(read.left == 0)
    }

    @Test func waitsForTheRestOfAResponseCutAnywhere() throws {
        let bytes = Array((Self.ok + Self.notFound).utf8)
        for cut in 1..<bytes.count {
            let first = String(decoding: bytes[..<cut], as: UTF8.self)
            let second = String(decoding: bytes[cut...], as: UTF8.self)
            let read = try self.replies([first, second])
            #expect(read.replies == ["ok", "error"], "cut at \(cut)")
            #expect(read.left == 0, "cut at \(cut)")
        }
    }

    @Test func stepsOverABodyAsItArrivesWithoutKeepingIt() throws {
        var reader = HTTPReplies()
        var buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n")
        buffer.writeRepeatingByte(UInt8(ascii: "x"), count: 4000)
        #expect(try reader.next(in: &buffer) == nil)
        #expect(buffer.readableBytes == 0, "the body so far is stepped over, not kept")
        buffer.writeRepeatingByte(UInt8(ascii: "x"), count: 6000)
        buffer.writeString(Self.notFound)
        #expect(try reader.next(in: &buffer) == .answer(ok: true))
        #expect(try reader.next(in: &buffer) == .answer(ok: false))
        #expect(buffer.readableBytes == 0)
    }

    @Test func readsChunkedBodiesWithExtensionsAndTrailers() throws {
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\nA\r\n0123456789\r\n0\r\nExpires: never\r\n\r\n"
        let bytes = Array((chunked + Self.notFound).utf8)
        for cut in stride(from: 1, to: bytes.count, by: 3) {
            let read = try self.replies([String(decoding: bytes[..<cut], as: UTF8.self), String(decoding: bytes[cut...], as: UTF8.self)])
            #expect(read.replies == ["ok", "error"], "cut at \(cut)")
            #expect(read.left == 0, "cut at \(cut)")
        }
    }

    @Test func interimAndBodylessResponses() throws {
        let read = try self.replies([
            "HTTP/1.1 100 Continue\r\n\r\n" + Self.ok + "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\n\r\n"
        ])
        #expect(read.replies == ["interim", "ok", "error", "error"])
        #expect(read.left == 0)
    }

    @Test func rejectsWhatItCannotFrame() throws {
        for bytes in [
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody until the connection ends",
            "SSH-2.0-OpenSSH_9.6\r\n\r\n",
            "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcde\r\n",
            "HTTP/1.1 200 OK\r\nX-Padding: " + String(repeating: "a", count: HTTPReplies.maximumHeadBytes),
        ] {
            #expect(throws: HTTPReplies.UnreadableResponse.self, "\(bytes.prefix(60))") { try self.replies([bytes]) }
        }
    }
}
