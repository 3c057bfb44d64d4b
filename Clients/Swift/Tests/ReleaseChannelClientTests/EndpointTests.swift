import ReleaseChannelClient
import Testing

/// `HOST[:PORT]` as the CLI's `--tcp` and an SDK user write it.
@Suite struct EndpointTests {
    typealias Endpoint = ReleaseChannelClientConfiguration.Endpoint

    @Test(arguments: [
        ("release-chan.internal:9000", "release-chan.internal", 9000),
        ("127.0.0.1", "127.0.0.1", 8090),
        ("[::1]:9000", "::1", 9000),
        ("[fd00::2]", "fd00::2", 8090),
    ])
    func parses(text: String, host: String, port: Int) throws {
        let endpoint = try #require(Endpoint(text))
        #expect(endpoint.host == host)
        #expect(endpoint.port == port)
        // What it prints parses back to the same endpoint.
        #expect(Endpoint(endpoint.description) == endpoint)
    }

    @Test(arguments: ["", ":9000", "host:", "host:0", "host:65536", "host:80x", "a:1:2", "::1", "[::1", "[::1]9000", "[::1]:", "[host]:9000", "[]:9000"])
    func refuses(text: String) {
        #expect(Endpoint(text) == nil)
    }
}
