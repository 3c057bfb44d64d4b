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
        /// An HTTP/1.1 `GET` of the key's request target, with a `Host` header and any others asked for
        /// (keep-alive, pipelined).
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
    /// `{channel}` filled in, to the server at `host` and `port`, with `headers` (checked by
    /// ``headerField(_:)``) after `Host`.
    static func httpGets(
        _ keys: [(container: String, channel: String)],
        template: String,
        host: String,
        port: Int,
        headers: [String] = []
    ) -> WireRequests {
        let fields = "Host: \(Self.hostHeader(host: host, port: port))\r\n" + headers.map { "\($0)\r\n" }.joined()
        return WireRequests(form: .httpGet, count: keys.count) { index, buffer in
            let target = template.replacingOccurrences(of: "{container}", with: keys[index].container)
                .replacingOccurrences(of: "{channel}", with: keys[index].channel)
            buffer.writeString("GET \(target) HTTP/1.1\r\n\(fields)\r\n")
        }
    }

    /// Why `field` cannot be sent as a header field line (`Name: value`, RFC 9110 §5.1 and §5.5), or
    /// nil when it can: a name of token characters, a colon, a value without control characters.
    /// `Host` is the load generator's own, from --host and --port.
    static func headerField(_ field: String) -> String? {
        guard let colon = field.firstIndex(of: ":") else { return "\"\(field)\" has no ':' between name and value" }
        let name = field[..<colon]
        let tokenCharacters = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        guard !name.isEmpty, name.allSatisfy(tokenCharacters.contains) else {
            return "\"\(field)\": the name before ':' must be letters, digits or !#$%&'*+-.^_`|~"
        }
        guard name.lowercased() != "host" else { return "\"\(field)\": Host is set from --host and --port" }
        let value = field.unicodeScalars[field.unicodeScalars.index(after: colon)...]
        guard !value.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) else {
            return "\"\(field)\": the value holds a control character"
        }
        return nil
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
