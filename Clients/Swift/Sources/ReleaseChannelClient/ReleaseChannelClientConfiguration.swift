/// How a ``ReleaseChannelClient`` connects and behaves.
public struct ReleaseChannelClientConfiguration: Sendable {
    /// A server address.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        /// Host name or IP address of the server; an IPv6 address without brackets.
        public var host: String
        /// TCP port of the server's binary protocol, 1–65535 (8090 by default).
        public var port: Int

        /// Creates an endpoint from a host name or IP address (IPv6 without brackets) and a port, 8090 unless
        /// given; the port is not checked here (a port outside 1–65535 fails to connect).
        public init(host: String, port: Int = 8090) {
            self.host = host
            self.port = port
        }

        /// Parses `host:port`, `[IPv6 address]:port`, or either without `:port` (port 8090); `nil` for
        /// anything else, or a port outside 1–65535.
        public init?(_ text: String) {
            let host: Substring
            let port: Substring?
            if text.hasPrefix("[") {
                // An IPv6 literal's own colons would read as a port separator without the brackets.
                guard let close = text.firstIndex(of: "]") else { return nil }
                host = text[text.index(after: text.startIndex)..<close]
                let rest = text[text.index(after: close)...]
                guard host.contains(":"), rest.isEmpty || rest.hasPrefix(":") else { return nil }
                port = rest.isEmpty ? nil : rest.dropFirst()
            } else {
                let parts = text.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count <= 2, !parts[0].isEmpty else { return nil }
                host = parts[0]
                port = parts.count == 2 ? parts[1] : nil
            }
            guard let port else {
                self.init(host: String(host))
                return
            }
            guard let number = Int(port), (1...65535).contains(number) else { return nil }
            self.init(host: String(host), port: number)
        }

        /// `host:port`, with an IPv6 address in brackets: what ``init(_:)`` parses back.
        public var description: String { self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)" }
    }

    /// Servers to use. Pool slot n starts at endpoint n (modulo the count) and moves on to the next one
    /// whenever its connection is lost or cannot be made, so connections spread over the endpoints and
    /// fail over when one is down.
    public var endpoints: [Endpoint]
    /// Connections kept open; requests are spread over them and pipelined on each.
    public var connections: Int = 2
    /// Longest wait for one endpoint: the TCP connect and the HELLO reply together. Failover to the next
    /// endpoint starts when it passes, so
    /// ``ReleaseChannelClient/withClient(configuration:eventLoopGroup:logger:_:)`` waits this long for each
    /// endpoint (one round over them all) for the first connection.
    public var connectTimeout: Duration = .seconds(5)
    /// Longest a call takes: waiting for a usable connection and then for the reply share it.
    public var requestTimeout: Duration = .seconds(5)
    /// Longest a SNAPSHOT takes (``ReleaseChannelClient/snapshot()`` and cached mode's refreshes), in place of
    /// ``requestTimeout``: the whole db, uncompressed for a moment after each reload, can take longer than a
    /// lookup on a slow link. A keep-alive PING sent behind a SNAPSHOT reply waits as long.
    public var snapshotTimeout: Duration = .seconds(60)
    /// First delay before reconnecting; doubles per failed attempt, with ±50 % jitter.
    public var reconnectInitialDelay: Duration = .milliseconds(100)
    /// Cap of the reconnect backoff before jitter, so an actual delay reaches at most 1.5 × this value; the same
    /// backoff paces retries of a failed cache refresh.
    public var reconnectMaximumDelay: Duration = .seconds(10)
    /// A pool slot stops reconnecting after this many failed rounds (every endpoint tried) in a row, once
    /// no other connection is up either; nil retries forever. The client stays open until closed; while no connection is up after a slot gave up,
    /// the state is ``ReleaseChannelClient/State/failed`` and calls throw
    /// ``ReleaseChannelClientError/notConnected(_:)``.
    public var maximumReconnectAttempts: Int?
    /// Interval of the keep-alive PING sent on every connection (the server closes idle ones).
    public var pingInterval: Duration = .seconds(30)
    /// Largest frame accepted from the server (a SNAPSHOT of a large db is the biggest); a larger one closes
    /// the connection, since the bytes after it cannot be read as frames.
    public var maximumFrameBytes: Int = 256 * 1024 * 1024
    /// Largest body a COMPRESSED reply may decompress to (the whole db, for a SNAPSHOT); nil for 16 ×
    /// ``maximumFrameBytes``. A larger one fails that call with
    /// ``ReleaseChannelClientError/responseTooLarge(_:)`` and the connection stays up; in cached mode the
    /// cache stays as it was until the next revision (``ReleaseChannelClient/cacheStatus``).
    public var maximumDecompressedBytes: Int?
    /// Keep the whole db in memory and answer lookups from it, refreshed on every pushed change.
    public var cached: Bool = false
    /// Sent in HELLO; shows up in the server's logs.
    public var clientName: String = "release-chan-swift"

    /// ``maximumDecompressedBytes``, or its default; 16 × `Int.max` is no limit, not an overflow.
    var decompressedLimit: Int {
        if let maximumDecompressedBytes = self.maximumDecompressedBytes { return maximumDecompressedBytes }
        let (product, overflow) = self.maximumFrameBytes.multipliedReportingOverflow(by: 16)
        return overflow ? Int.max : product
    }

    /// Creates a configuration for these servers (list at least one), every other property at its default.
    public init(endpoints: [Endpoint]) {
        self.endpoints = endpoints
    }
}
