import NIOCore
import ReleaseChannelStore

extension Snapshot {
    /// The record the protocol's GET with this body would send, copied out.
    func record(forKey key: ByteBuffer) -> ByteBuffer? {
        var record: ByteBuffer?
        _ = key.withUnsafeReadableBytes { bytes in
            self.withRelease(forKey: bytes) { release in
                var buffer = ByteBuffer()
                if release.writeRecord(to: &buffer) { record = buffer }
            }
        }
        return record
    }

    /// The body `GET /v1/releases/{container}/{channel}` would send on the fast path, copied out.
    func fastPathBody(container: String, channel: String) -> ByteBuffer? {
        var body: ByteBuffer?
        _ = Array(container.utf8).withUnsafeBytes { container in
            Array(channel.utf8).withUnsafeBytes { channel in
                self.withRelease(container: container, channel: channel) { release in
                    var buffer = ByteBuffer()
                    release.writeJSON(to: &buffer)
                    body = buffer
                }
            }
        }
        return body
    }
}
