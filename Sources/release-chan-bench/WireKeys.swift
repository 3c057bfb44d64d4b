import NIOCore
import ReleaseChannelProtocol

/// Every key as the body of a protocol GET, encoded once into one array, so that a request copies its
/// key's bytes from there.
///
/// One `ByteBuffer` per key had cost the load generator, per request, a cache miss on the key's storage
/// and its reference count, then another on its bytes: a third of its profile at pipeline depth 16,
/// taken from the server it shares the cores with (redis-benchmark makes its keys from a number).
struct WireKeys: Sendable {
    private let bytes: [UInt8]
    /// Where each key ends in ``bytes`` (it starts where the previous one ends).
    private let ends: [UInt32]

    init(_ keys: [(container: String, channel: String)]) {
        var buffer = ByteBuffer()
        var ends: [UInt32] = []
        ends.reserveCapacity(keys.count)
        for key in keys {
            ProtocolMessages.Key(container: key.container, channel: key.channel).write(to: &buffer)
            ends.append(UInt32(buffer.readableBytes))
        }
        self.bytes = Array(buffer.readableBytesView)
        self.ends = ends
    }

    var count: Int { self.ends.count }

    /// Calls `body` with the encoded key at `index`.
    func withKey<Result>(_ index: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        let start = index == 0 ? 0 : Int(self.ends[index - 1])
        let end = Int(self.ends[index])
        return self.bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
    }
}
