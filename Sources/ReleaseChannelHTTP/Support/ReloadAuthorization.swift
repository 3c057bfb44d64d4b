import HTTPTypes
import Hummingbird
import NIOCore

/// Who may call `POST /v1/reload`: holders of the admin token when one is configured, otherwise only
/// callers on the loopback interface.
public struct ReloadAuthorization: Sendable {
    private let token: [UInt8]?

    /// - Parameter adminToken: The bearer token to require, or nil to allow loopback callers only.
    public init(adminToken: String?) {
        self.token = adminToken.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
    }

    func authorize(_ request: Request, remoteAddress: SocketAddress?) throws(APIError) {
        if let token = self.token {
            var headers = HTTPFields()
            headers[.wwwAuthenticate] = "Bearer realm=\"release-chan\""
            guard let header = request.headers[.authorization], let credentials = Self.bearerCredentials(header),
                Self.constantTimeEquals(Array(credentials), token)
            else {
                throw APIError(.unauthorized, code: "unauthorized", message: "a valid admin bearer token is required", headers: headers)
            }
            return
        }
        guard Self.isLoopback(remoteAddress) else {
            throw APIError(
                .forbidden,
                code: "forbidden",
                message: "reload is allowed only from loopback when no admin token is configured"
            )
        }
    }

    /// The credentials of an `Authorization: Bearer <token>` value: the scheme name in any case
    /// (RFC 9110 §11.1), then one or more spaces; nil for any other scheme.
    static func bearerCredentials(_ value: String) -> Substring.UTF8View? {
        let scheme = "bearer".utf8
        var bytes = Substring(value).utf8
        guard bytes.count > scheme.count, zip(bytes, scheme).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        bytes = bytes.dropFirst(scheme.count)
        guard bytes.first == UInt8(ascii: " ") else { return nil }
        return bytes.drop { $0 == UInt8(ascii: " ") }
    }

    /// Compares without an early exit so the time taken does not reveal how much of a guess was right.
    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(lhs.count == rhs.count ? 0 : 1)
        for index in 0..<rhs.count {
            difference |= (index < lhs.count ? lhs[index] : 0) ^ rhs[index]
        }
        return difference == 0
    }

    static func isLoopback(_ address: SocketAddress?) -> Bool {
        switch address {
        case .v4:
            // 127.0.0.0/8
            return address?.ipAddress?.hasPrefix("127.") ?? false
        case .v6:
            guard let ip = address?.ipAddress else { return false }
            return ip == "::1" || ip.hasPrefix("::ffff:127.")
        case .unixDomainSocket:
            return true
        case .none:
            return false
        }
    }
}
