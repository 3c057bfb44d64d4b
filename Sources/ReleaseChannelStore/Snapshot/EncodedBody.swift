public import NIOCore

/// A response body, with its gzip form when compressing it pays off.
///
/// The gzip form is computed once per snapshot, never per request: transports hand these buffers to
/// the network as they are.
public struct EncodedBody: Sendable {
    /// Bodies smaller than this are never compressed: for a container's few releases the bytes saved
    /// do not pay for a zlib stream per container on every reload (measured: it dominated reload time).
    public static let compressionThreshold = 8 * 1024

    public let identity: ByteBuffer
    /// The gzip form: present when the body reached ``compressionThreshold`` and gzip made it smaller.
    public let gzip: ByteBuffer?

    public init(identity: ByteBuffer, gzip: ByteBuffer?) {
        self.identity = identity
        self.gzip = gzip
    }
}
