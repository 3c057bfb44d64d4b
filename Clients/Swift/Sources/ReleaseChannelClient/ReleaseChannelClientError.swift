public import ReleaseChannelProtocol

/// Why a client call failed.
public enum ReleaseChannelClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No reply within the request timeout (the request may still be answered later; that reply is dropped).
    case timeout
    /// The connection closed before the reply arrived.
    case connectionClosed
    /// No connection to any endpoint could be used within the request timeout.
    case notConnected(String)
    /// The server answered with an error status.
    case server(status: ProtocolStatus, message: String)
    /// The server sent something the protocol does not allow.
    case protocolViolation(String)
    /// The client was closed.
    case closed
    /// The call's arguments break a protocol limit; nothing was sent.
    case invalidRequest(String)
    /// The reply decompresses to more than ``ReleaseChannelClientConfiguration/maximumDecompressedBytes``; the
    /// connection stays up (the frame itself was read whole).
    case responseTooLarge(String)

    public var description: String {
        switch self {
        case .timeout: "request timed out"
        case .connectionClosed: "connection closed before the reply arrived"
        case .notConnected(let reason): "not connected: \(reason)"
        case .server(let status, let message): "server error \(status.name): \(message)"
        case .protocolViolation(let message): "protocol violation: \(message)"
        case .closed: "the client is closed"
        case .invalidRequest(let message): "invalid request: \(message)"
        case .responseTooLarge(let message): "response too large: \(message)"
        }
    }
}
