/// zlib refused an operation while compressing the whole db (out of memory, or a broken stream state).
public struct CompressionError: Error, Sendable, CustomStringConvertible {
    /// The zlib call that failed.
    public let operation: String
    /// zlib's return code (`Z_MEM_ERROR` is -4, `Z_STREAM_ERROR` -2).
    public let code: Int32

    public var description: String { "\(self.operation) failed with zlib code \(self.code)" }
}
