import ReleaseChannelTestSupport
import NIOCore
import Testing

@testable import ReleaseChannelHTTP

/// The loopback rule can only be exercised from loopback in a test; these cover the other side of it.
@Suite struct ReloadAuthorizationTests {
    @Test func recognisesLoopbackPeers() throws {
        #expect(ReloadAuthorization.isLoopback(try SocketAddress(ipAddress: "127.0.0.1", port: 1)))
        #expect(ReloadAuthorization.isLoopback(try SocketAddress(ipAddress: "127.8.9.10", port: 1)))
        #expect(ReloadAuthorization.isLoopback(try SocketAddress(ipAddress: "::1", port: 1)))
        #expect(!ReloadAuthorization.isLoopback(try SocketAddress(ipAddress: "10.1.2.3", port: 1)))
        #expect(!ReloadAuthorization.isLoopback(try SocketAddress(ipAddress: "128.0.0.1", port: 1)))
        #expect(!ReloadAuthorization.isLoopback(try SocketAddress(ipAddress: "2001:db8::1", port: 1)))
        #expect(!ReloadAuthorization.isLoopback(nil))
    }

    @Test func comparesTokensExactly() {
        let token = Array("abc".utf8)
        #expect(ReloadAuthorization.constantTimeEquals(Array("abc".utf8), token))
        #expect(!ReloadAuthorization.constantTimeEquals(Array("abd".utf8), token))
        #expect(!ReloadAuthorization.constantTimeEquals(Array("ab".utf8), token))
        #expect(!ReloadAuthorization.constantTimeEquals(Array("abcd".utf8), token))
        #expect(!ReloadAuthorization.constantTimeEquals([], token))
    }

    @Test func readsTheBearerSchemeInAnyCase() {
        #expect(ReloadAuthorization.bearerCredentials("Bearer abc").map { String($0) } == "abc")
        #expect(ReloadAuthorization.bearerCredentials("bEaReR abc").map { String($0) } == "abc")
        #expect(ReloadAuthorization.bearerCredentials("bearer    abc").map { String($0) } == "abc")
        #expect(ReloadAuthorization.bearerCredentials("Bearerabc") == nil)
        #expect(ReloadAuthorization.bearerCredentials("Basic abc") == nil)
        #expect(ReloadAuthorization.bearerCredentials("Bearer") == nil)
    }
}
