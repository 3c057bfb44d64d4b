import Foundation
import NIOCore
import ReleaseChannelProtocol

/// The GET request for every key as it goes on the wire, encoded once into one array, so that sending
/// a request is one copy: a whole protocol GET frame (its request ID patched in after the copy), a
/// whole Redis `GET container:channel` command, or a whole HTTP/1.1 `GET` request.
///
/// One `ByteBuffer` per key had cost the load generator, per request, a cache miss on the key's storage
/// and its reference count, then another on its bytes: a third of its profile at pipeline depth 16,
/// taken from the server it shares the cores with (redis-benchmark makes its keys from a number).
struct WireRequests: Sendable {
    private let bytes: [UInt8]
    /// Where each request ends in ``bytes`` (it starts where the previous one ends).
    private let ends: [UInt32]
    /// How the requests are encoded.
    let form: Form
    /// The length of the longest request, in bytes: what a buffer for one request in flight needs.
    let longest: Int

    enum Form {
        /// A release-chan protocol GET frame with request ID 0, to be patched at ``requestIDOffset``.
        case protocolGet
        /// A RESP `GET container:channel` command (the keys compare.sh loads into Redis).
        case redisGet
        /// An HTTP/1.1 `GET` of the key's request target, with a `Host` header (keep-alive, pipelined).
        case httpGet
    }

    /// Protocol GET frames for `keys`.
    static func protocolGets(_ keys: [(container: String, channel: String)]) -> WireRequests {
        WireRequests(form: .protocolGet, count: keys.count) { index, buffer in
            let key = keys[index]
            buffer.writeFrame(opcode: ProtocolOpcode.get.rawValue, flags: [], requestID: 0, revision: .none) {
                ProtocolMessages.Key(container: key.container, channel: key.channel).write(to: &$0)
            }
        }
    }

    /// Redis `GET container:channel` commands for `keys`.
    static func redisGets(_ keys: [(container: String, channel: String)]) -> WireRequests {
        WireRequests(form: .redisGet, count: keys.count) { index, buffer in
            let name = "\(keys[index].container):\(keys[index].channel)"
            buffer.writeString("*2\r\n$3\r\nGET\r\n$\(name.utf8.count)\r\n\(name)\r\n")
        }
    }

    /// HTTP/1.1 `GET` requests for `keys`, of the target `template` names with `{container}` and
    /// `{channel}` filled in, to the server at `host` and `port`.
    static func httpGets(_ keys: [(container: String, channel: String)], template: String, host: String, port: Int) -> WireRequests {
        let authority = Self.hostHeader(host: host, port: port)
        return WireRequests(form: .httpGet, count: keys.count) { index, buffer in
            let target = template.replacingOccurrences(of: "{container}", with: keys[index].container)
                .replacingOccurrences(of: "{channel}", with: keys[index].channel)
            buffer.writeString("GET \(target) HTTP/1.1\r\nHost: \(authority)\r\n\r\n")
        }
    }

    /// The `Host` field's value for a server at `host` and `port` (RFC 9110 §7.2): the port unless it
    /// is HTTP's default, an IPv6 literal in brackets.
    static func hostHeader(host: String, port: Int) -> String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? name : "\(name):\(port)"
    }

    private init(form: Form, count: Int, encode: (Int, inout ByteBuffer) -> Void) {
        var buffer = ByteBuffer()
        var ends: [UInt32] = []
        ends.reserveCapacity(count)
        var longest = 0
        for index in 0..<count {
            let start = buffer.readableBytes
            encode(index, &buffer)
            longest = max(longest, buffer.readableBytes - start)
            ends.append(UInt32(buffer.readableBytes))
        }
        self.bytes = Array(buffer.readableBytesView)
        self.ends = ends
        self.form = form
        self.longest = longest
    }

    /// Where a protocol GET frame's request ID is: after the length prefix (4 bytes) and the version,
    /// opcode, flags and status (1 byte each); docs/protocol.md §3.
    static let requestIDOffset = 8

    var count: Int { self.ends.count }

    /// Calls `body` with the request for the key at `index`.
    func withRequest<Result>(_ index: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        let start = index == 0 ? 0 : Int(self.ends[index - 1])
        let end = Int(self.ends[index])
        return self.bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
    }
}
