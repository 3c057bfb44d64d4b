import NIOCore
import ReleaseChannelStore

extension ReleaseRecordIndex {
    /// The record the protocol's GET with this body would send, copied out.
    func record(forKey key: ByteBuffer) -> ByteBuffer? {
        key.withUnsafeReadableBytes { bytes in
            self.withRelease(forKey: bytes) { json, layout in
                var record = ByteBuffer()
                layout.writeRecord(from: json, to: &record)
                return record
            }
        }
    }
}
