import Testing

@testable import release_chan_bench

/// The load generator's pre-encoded requests, byte for byte (its runs against the real server are in
/// LoadGeneratorTests).
@Suite struct WireRequestsTests {
    /// An HTTP request names the server's port in `Host` (RFC 9110 §7.2), unless it is 80, and an IPv6
    /// literal in brackets: a virtual host or a proxy in front of release-chan routes by that field.
    @Test(arguments: [
        ("127.0.0.1", 18089, "127.0.0.1:18089"),
        ("release-chan.internal", 80, "release-chan.internal"),
        ("::1", 8089, "[::1]:8089"),
    ])
    func httpRequestNamesTheServerInHost(host: String, port: Int, expected: String) {
        let requests = WireRequests.httpGets([("my-app", "prod")], template: "/v1/releases/{container}/{channel}", host: host, port: port)
        let bytes = requests.withRequest(0) { Array($0) }
        #expect(String(decoding: bytes, as: UTF8.self) == "GET /v1/releases/my-app/prod HTTP/1.1\r\nHost: \(expected)\r\n\r\n")
    }

    /// Header fields asked for (--header) follow `Host`, in their order, in every request.
    @Test func httpRequestCarriesTheHeadersAskedFor() {
        let requests = WireRequests.httpGets(
            [("a", "dev"), ("b", "prod")], template: "/v1/releases", host: "127.0.0.1", port: 8089,
            headers: ["Accept-Encoding: gzip", "X-Trace:"]
        )
        for index in 0..<2 {
            let text = requests.withRequest(index) { String(decoding: $0, as: UTF8.self) }
            #expect(text == "GET /v1/releases HTTP/1.1\r\nHost: 127.0.0.1:8089\r\nAccept-Encoding: gzip\r\nX-Trace:\r\n\r\n")
        }
    }

    /// A field that would break the request, or smuggle another into it, is refused with the reason.
    @Test(arguments: [
        ("Accept-Encoding: gzip", nil),
        ("X-Empty:", nil),
        ("If-None-Match: \"a\"\t, W/\"b\"", nil),
        ("Accept-Encoding gzip", "has no ':'"),
        (": gzip", "the name before ':'"),
        ("Accept Encoding: gzip", "the name before ':'"),
        ("host: elsewhere", "Host is set from --host and --port"),
        ("X-A: 1\r\nX-B: 2", "control character"),
    ] as [(String, String?)])
    func headerFieldsAreChecked(field: String, problem: String?) {
        let found = WireRequests.headerField(field)
        if let problem {
            #expect(found?.contains(problem) == true, "\(found ?? "accepted")")
        } else {
            #expect(found == nil)
        }
    }

    /// Each request is its own bytes: the second starts where the first ends; the longest is known.
    @Test func requestsFollowEachOther() {
        let requests = WireRequests.redisGets([("a", "dev"), ("bc", "prod")])
        #expect(requests.count == 2)
        #expect(requests.withRequest(0) { String(decoding: $0, as: UTF8.self) } == "*2\r\n$3\r\nGET\r\n$5\r\na:dev\r\n")
        #expect(requests.withRequest(1) { String(decoding: $0, as: UTF8.self) } == "*2\r\n$3\r\nGET\r\n$7\r\nbc:prod\r\n")
        // What a connection's first request buffer is sized by, per request in flight.
        #expect(requests.longest == "*2\r\n$3\r\nGET\r\n$7\r\nbc:prod\r\n".utf8.count)
    }
}
