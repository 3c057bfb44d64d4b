public import NIOCore
import Synchronization

/// A response body encoded once per snapshot, with its gzip form when compressing it pays off.
///
/// Transports hand these buffers to the network as they are: no encoding or compression per request.
public struct EncodedBody: Sendable {
    /// Bodies smaller than this are never compressed: for a container's few releases the bytes saved
    /// do not pay for a zlib stream per container on every reload (measured: it dominated reload time).
    public static let compressionThreshold = 8 * 1024

    public let identity: ByteBuffer
    private let compressed: Compressed

    private enum Compressed: Sendable {
        case fixed(ByteBuffer?)
        /// Filled in after the snapshot is already serving (see ``DeferredGzip``).
        case deferred(DeferredGzip)
    }

    public init(identity: ByteBuffer, gzip: ByteBuffer?) {
        self.identity = identity
        self.compressed = .fixed(gzip)
    }

    init(identity: ByteBuffer, deferred: DeferredGzip) {
        self.identity = identity
        self.compressed = .deferred(deferred)
    }

    /// The gzip form: present when the body reached ``compressionThreshold`` and gzip made it smaller;
    /// for the whole db, present once ``Snapshot/compressWholeDatabase()`` has run.
    public var gzip: ByteBuffer? {
        switch self.compressed {
        case .fixed(let buffer): buffer
        case .deferred(let deferred): deferred.value
        }
    }
}

/// A gzip form computed after the snapshot started serving.
///
/// Compressing a large db takes longer than parsing it (zlib level 6: about 2 s for 94 MB here), and no
/// lookup needs it, so a reload swaps the snapshot first and compresses afterwards; until then the whole
/// db is sent uncompressed, which every client must accept anyway.
final class DeferredGzip: Sendable {
    private let storage = Mutex<ByteBuffer?>(nil)

    var value: ByteBuffer? { self.storage.withLock { $0 } }

    func fill(_ buffer: ByteBuffer) {
        self.storage.withLock { $0 = buffer }
    }
}
