public import NIOCore
import Synchronization

/// The body of `GET /v1/releases` and of the protocol's SNAPSHOT: the canonical db file.
///
/// A new snapshot holds the file's bytes. After the swap, ``compress()`` replaces them with the gzip
/// form (≈ 0.2× the file for a generated db), which is what nearly every client asks for: holding both
/// had made the whole db 1.2× the file of the server's resident memory. A client without gzip then gets
/// the bytes inflated while they are sent (``writeIdentity(_:)``), as nginx's `gunzip` module does.
/// The gzip form lives in a ``ScratchFile``, so HTTP can send it with `sendfile(2)`.
public final class WholeDatabaseBody: Sendable {
    /// What the body is held as right now.
    public enum Form: Sendable {
        /// The file's bytes: the gzip form is not computed yet.
        case identity(ByteBuffer)
        case gzip(ScratchFile)
    }

    private enum State {
        /// Keeps the previous snapshot's form, whose unchanged segments ``compress()`` copies, and the
        /// bytes' segments when the reload already cut them.
        case identity(ByteBuffer, segments: DatabaseSegments?, reusable: SegmentedGzip?)
        case compressed(SegmentedGzip)
    }

    private let state: Mutex<State>
    /// Length of the file's bytes, whichever form is held (the `Content-Length` of an identity response).
    public let identityLength: Int

    init(identity: ByteBuffer, segments: DatabaseSegments? = nil, reusing previous: SegmentedGzip?) {
        self.identityLength = identity.readableBytes
        self.state = Mutex(.identity(identity, segments: segments, reusable: previous))
    }

    public var form: Form {
        self.state.withLock {
            switch $0 {
            case .identity(let bytes, _, _): .identity(bytes)
            case .compressed(let gzip): .gzip(gzip.file)
            }
        }
    }

    /// The gzip form, once computed.
    public var gzip: ScratchFile? {
        if case .gzip(let file) = self.form { file } else { nil }
    }

    /// The file's bytes while they are still held (before compression), else nil.
    public var heldIdentity: ByteBuffer? {
        if case .identity(let bytes) = self.form { bytes } else { nil }
    }

    /// The form the next snapshot's compression can copy segments from: this one once computed, else the
    /// one this snapshot was going to copy from (so a reload that supersedes an uncompressed snapshot
    /// still finds them).
    var reusable: SegmentedGzip? {
        self.state.withLock {
            switch $0 {
            case .identity(_, _, let reusable): reusable
            case .compressed(let gzip): gzip
            }
        }
    }

    /// This snapshot's own gzip form, once computed (not the previous one ``reusable`` falls back to).
    var compressed: SegmentedGzip? {
        self.state.withLock {
            if case .compressed(let gzip) = $0 { gzip } else { nil }
        }
    }

    /// Computes the gzip form and lets go of the file's bytes and of the previous form.
    /// - Returns: The new form, or nil when it was already computed.
    func compress() throws(CompressionError) -> SegmentedGzip? {
        guard case .identity(let bytes, let segments, let reusable) = self.state.withLock({ $0 }) else { return nil }
        let gzip = try SegmentedGzip.compress(bytes, segments: segments, reusing: reusable)
        self.state.withLock { $0 = .compressed(gzip) }
        return gzip
    }

    /// Hands the file's bytes to `write` in order: the held bytes in one piece, or the gzip form inflated
    /// a chunk at a time (memory stays at one chunk per response; the CPU is a few ms per MB).
    public func writeIdentity(_ write: (ByteBuffer) async throws -> Void) async throws {
        switch self.form {
        case .identity(let bytes):
            try await write(bytes)
        case .gzip(let file):
            let inflater = try GzipInflater()
            var consumed = 0
            var finished = false
            while !finished {
                var chunk = ByteBuffer()
                let step = try file.withUnsafeBytes { (input) throws(CompressionError) in
                    try inflater.inflate(UnsafeRawBufferPointer(rebasing: input[consumed...]), into: &chunk, capacity: Self.inflateChunkSize)
                }
                consumed += step.consumed
                finished = step.finished
                if chunk.readableBytes > 0 { try await write(chunk) }
            }
        }
    }

    /// The size of the pieces an identity response is inflated into (and a gzip response copied into,
    /// where it is not sent from its file).
    public static let inflateChunkSize = 256 * 1024
}
