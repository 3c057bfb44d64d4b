import Testing

@testable import ReleaseChannelHTTP

/// `Accept-Encoding` as the router reads it (a string) and as the raw lookup path reads it (the bytes
/// where they arrived): the same answer for every list.
@Suite struct ContentNegotiationTests {
    @Test(arguments: [
        ("gzip", true), ("GZip", true), ("  gzip\t", true), ("*", true), ("deflate, gzip;q=1.0", true),
        ("br;q=1, gzip", true), (",,gzip,", true), ("gzip ; q=0.5", true), ("gzip;level=1", true),
        ("gzip;q=x", true),  // a quality that is not a number is ignored
        ("gzip;q=0", false), ("gzip; Q = 0.000", false), ("*;q=0", false), ("br, gzip;q=0", false),
        ("gzip;level=1;q=0", false), ("gzip;q=x;q=0", false), ("gzip;q=0, *", false),  // the first item decides
        ("", false), ("identity", false), ("x-gzip", false), ("gzipx", false), ("gzi", false), ("q=1", false),
        (";gzip", false), ("br", false), ("**", false),
    ])
    func acceptsGzip(header: String, expected: Bool) {
        #expect(ContentNegotiation.acceptsGzip(header) == expected)
        let bytes = Array(header.utf8)
        #expect(bytes.withUnsafeBytes { ContentNegotiation.acceptsGzip($0) } == expected)
    }

    @Test func noHeaderIsNoGzip() {
        #expect(!ContentNegotiation.acceptsGzip(nil))
    }
}
