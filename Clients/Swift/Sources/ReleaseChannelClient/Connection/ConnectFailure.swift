#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// Why a connect to one endpoint failed, in words: "no server reachable" alone left a refused port, a
/// host that does not resolve, a server at its connection limit and one that is not a release-chan
/// server looking alike.
enum ConnectFailure {
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as ReleaseChannelClientError:
            if case .timeout = error { return "no HELLO reply within the connect timeout" }
            return error.description
        case let error as NIOConnectionError:
            if let failure = error.connectionErrors.first { return Self.describe(failure.error) }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "the host does not resolve" }
            return "no address to connect to"
        case let error as IOError:
            return String(cString: strerror(error.errnoCode)).lowercased()
        case ChannelError.connectTimeout:
            return "TCP connect timed out"
        default:
            return "\(error)"
        }
    }
}
