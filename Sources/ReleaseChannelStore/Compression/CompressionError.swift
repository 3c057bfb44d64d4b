#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Compressing the whole db failed: zlib refused an operation (out of memory, or a broken stream state),
/// or the system refused the file that holds the result (see ``ScratchFile``).
public struct CompressionError: Error, Sendable, CustomStringConvertible {
    /// The zlib function or system call that failed.
    public let operation: String
    /// zlib's return code (`Z_MEM_ERROR` is -4, `Z_STREAM_ERROR` -2), or `errno` for a system call.
    public let code: Int32
    /// Whether ``code`` is an `errno` value.
    public let isSystemCall: Bool

    init(operation: String, code: Int32, isSystemCall: Bool = false) {
        self.operation = operation
        self.code = code
        self.isSystemCall = isSystemCall
    }

    public var description: String {
        self.isSystemCall
            ? "\(self.operation) failed: \(String(cString: strerror(self.code))) (errno \(self.code))"
            : "\(self.operation) failed with zlib code \(self.code)"
    }
}
