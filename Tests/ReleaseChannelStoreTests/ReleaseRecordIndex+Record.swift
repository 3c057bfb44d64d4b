import NIOCore
import ReleaseChannelStore

extension ReleaseRecordIndex {
    /// The record the protocol's GET with this body would send, copied out.
    func record(forKey key: ByteBuffer) -> ByteBuffer? {
        key.withUnsafeReadableBytes { bytes in
            self.withRelease(forKey: bytes) { json, layout in
                var record = ByteBuffer()
                record.writeWithUnsafeMutableBytes(minimumWritableBytes: layout.recordLength) { out in
                    guard let out = out.baseAddress else { return 0 }
                    layout.writeRecord(from: json, to: out)
                    return layout.recordLength
                }
                return record
            }
        }
    }
}
