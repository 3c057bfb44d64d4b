import ReleaseChannelTestSupport
import Foundation
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Threads for the tests' blocking socket calls: never the Swift concurrency pool or NIO's shared pool,
/// which the servers under test use.
let blockingCalls: NIOThreadPool = {
    let pool = NIOThreadPool(numberOfThreads: 32)
    pool.start()
    return pool
}()

/// A plain blocking TCP socket to 127.0.0.1, for checks on the exact bytes on the wire.
final class RawSocket: Sendable {
    private let descriptor: Int32

    /// `receiveBuffer` sets SO_RCVBUF before connecting, which turns off the kernel's autotuning of it:
    /// a test that needs an answer not to fit in the sockets' buffers cannot rely on their defaults (this
    /// machine kind lets a receive buffer grow to 32 MiB).
    init(port: Int, timeout: Duration = .seconds(30), receiveBuffer: Int? = nil) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket failed") }
        var timeoutValue = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeoutValue, socklen_t(MemoryLayout<timeval>.size))
        if let receiveBuffer {
            var size = Int32(receiveBuffer)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        // NIO's address rather than a `sockaddr_in` built here: which C module declares that struct
        // depends on the modules the target links, and a clean build once found it in NIO's own.
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        let connected = address.withSockAddr { connect(descriptor, $0, socklen_t($1)) }
        guard connected == 0 else {
            close(descriptor)
            throw TestFailure("connect failed: \(errno)")
        }
        self.descriptor = descriptor
    }

    deinit { close(self.descriptor) }

    func send(_ bytes: [UInt8]) async throws {
        let descriptor = self.descriptor
        try await blockingCalls.runIfActive {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard sent > 0 else { throw TestFailure("send failed: \(errno)") }
                offset += sent
            }
        }
    }

    func send(_ text: String) async throws { try await self.send(Array(text.utf8)) }

    /// Sends `pieces` one by one, pausing `pause` before each, all in one job of the blocking-call pool
    /// (the pace is a thread's own; see ``readSlowly(chunks:of:pause:)``). Stops at the first send the
    /// peer refuses (it closed the connection) and returns how many pieces it sent.
    @discardableResult
    func sendSlowly(_ pieces: [String], pause: Duration) async throws -> Int {
        let descriptor = self.descriptor
        let microseconds = Self.microseconds(pause)
        return try await blockingCalls.runIfActive {
            for (index, piece) in pieces.enumerated() {
                usleep(microseconds)
                let bytes = Array(piece.utf8)
                let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard sent == bytes.count else { return index }
            }
            return pieces.count
        }
    }

    private static func microseconds(_ duration: Duration) -> UInt32 {
        UInt32(duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
    }

    /// Shuts down the sending side (the server sees EOF after the bytes already sent).
    func finishSending() { shutdown(self.descriptor, Int32(SHUT_WR)) }

    /// Reads exactly `count` bytes; nil if the peer closes first (or the read times out).
    func read(exactly count: Int) async throws -> [UInt8]? {
        let descriptor = self.descriptor
        return try await blockingCalls.runIfActive {
            var result = [UInt8]()
            result.reserveCapacity(count)
            var buffer = [UInt8](repeating: 0, count: max(1, min(count, 1 << 16)))
            while result.count < count {
                let received = recv(descriptor, &buffer, min(buffer.count, count - result.count), 0)
                if received <= 0 { return nil }
                result += buffer[0..<received]
            }
            return result
        }
    }

    /// What ``readSlowly(chunks:of:pause:then:)`` reads after its slow chunks, at full speed.
    enum RestOfAnswer {
        /// Nothing more.
        case nothing
        /// Everything until the peer closes.
        case toEnd
        /// The rest of the length-prefixed frame the bytes start with.
        case restOfFrame
    }

    /// Reads `chunks` pieces of `chunk` bytes, pausing `pause` before each, then `rest` at full speed,
    /// all in one job of the blocking-call pool: the pace is then a thread's own, not that of the Swift
    /// tasks the whole suite shares (which, on 2 cores, can be held up for longer than a test's
    /// timeout: a reader that waited for a task between the slow part and the rest once stopped
    /// reading for over a second, and was cut off as a client that stopped). Stops at end of stream.
    func readSlowly(chunks: Int, of chunk: Int, pause: Duration, then rest: RestOfAnswer = .nothing) async throws -> [UInt8] {
        let descriptor = self.descriptor
        let microseconds = Self.microseconds(pause)
        return try await blockingCalls.runIfActive {
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: max(chunk, 1 << 16))
            for _ in 0..<chunks {
                usleep(microseconds)
                var taken = 0
                while taken < chunk {
                    let count = recv(descriptor, &buffer, chunk - taken, 0)
                    if count <= 0 { return received }
                    received += buffer[0..<count]
                    taken += count
                }
            }
            while true {
                let wanted: Int
                switch rest {
                case .nothing: return received
                case .toEnd: wanted = buffer.count
                case .restOfFrame:
                    guard received.count >= 4 else { return received }
                    let length = Int(UInt32(received[0]) << 24 | UInt32(received[1]) << 16 | UInt32(received[2]) << 8 | UInt32(received[3]))
                    wanted = min(buffer.count, 4 + length - received.count)
                    if wanted <= 0 { return received }
                }
                let count = recv(descriptor, &buffer, wanted, 0)
                if count <= 0 { return received }
                received += buffer[0..<count]
            }
        }
    }

    /// Reads one length-prefixed frame (prefix included); nil at end of stream.
    func readFrame() async throws -> [UInt8]? {
        guard let prefix = try await self.read(exactly: 4) else { return nil }
        let length = Int(UInt32(prefix[0]) << 24 | UInt32(prefix[1]) << 16 | UInt32(prefix[2]) << 8 | UInt32(prefix[3]))
        guard let rest = try await self.read(exactly: length) else { return nil }
        return prefix + rest
    }

    /// Everything until the peer closes.
    func readToEnd() async throws -> [UInt8] {
        let descriptor = self.descriptor
        return try await blockingCalls.runIfActive {
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = recv(descriptor, &buffer, buffer.count, 0)
                if count <= 0 { break }
                received += buffer[0..<count]
            }
            return received
        }
    }

    /// True when the peer has closed the connection (reads end of stream within the timeout).
    func isClosedByPeer() async throws -> Bool {
        let descriptor = self.descriptor
        return try await blockingCalls.runIfActive {
            var byte: UInt8 = 0
            return recv(descriptor, &byte, 1, 0) == 0
        }
    }
}

/// A port on 127.0.0.1 that nothing listens on while this lives: a socket bound to it without listen(2),
/// so connections to it are refused, and no other test's server can be given the port meanwhile (one
/// that was merely free a moment ago can be, with the whole suite binding ports in parallel).
final class RefusingPort: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket failed") }
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 0)
        guard address.withSockAddr({ bind(descriptor, $0, socklen_t($1)) }) == 0 else {
            close(descriptor)
            throw TestFailure("bind failed: \(errno)")
        }
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else {
            close(descriptor)
            throw TestFailure("getsockname failed: \(errno)")
        }
        self.port = Int(UInt16(bigEndian: bound.sin_port))
        self.descriptor = descriptor
    }

    deinit { close(self.descriptor) }
}

/// One HTTP/1.1 exchange on a fresh connection, read until the server closes it.
enum RawHTTP {
    static func exchange(port: Int, request: String) async throws -> String {
        let socket = try RawSocket(port: port)
        try await socket.send(request)
        return String(decoding: try await socket.readToEnd(), as: UTF8.self)
    }
}
