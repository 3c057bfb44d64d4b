/// How a ``ReleaseChannelClient`` connects and behaves.
public struct ReleaseChannelClientConfiguration: Sendable {
    /// A server address.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int = 8090) {
            self.host = host
            self.port = port
        }

        /// Parses `host:port` (or a bare host, port 8090).
        public init?(_ text: String) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            switch parts.count {
            case 1 where !parts[0].isEmpty: self.init(host: String(parts[0]))
            case 2 where !parts[0].isEmpty:
                guard let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
                self.init(host: String(parts[0]), port: port)
            default: return nil
            }
        }

        public var description: String { "\(self.host):\(self.port)" }
    }

    /// Servers to use. Pool slot n starts at endpoint n (modulo the count) and moves on to the next one
    /// whenever its connection is lost or cannot be made, so connections spread over the endpoints and
    /// fail over when one is down.
    public var endpoints: [Endpoint]
    /// Connections kept open; requests are spread over them and pipelined on each.
    public var connections: Int = 2
    public var connectTimeout: Duration = .seconds(5)
    /// Longest a call takes: waiting for a usable connection and then for the reply share it.
    public var requestTimeout: Duration = .seconds(5)
    /// First delay before reconnecting; doubles per failed attempt, with ±50 % jitter.
    public var reconnectInitialDelay: Duration = .milliseconds(100)
    public var reconnectMaximumDelay: Duration = .seconds(10)
    /// Give up (state ``ReleaseChannelClient/State/failed``) after this many failed attempts in a row;
    /// nil retries forever.
    public var maximumReconnectAttempts: Int?
    /// Interval of the keep-alive PING sent on every connection (the server closes idle ones).
    public var pingInterval: Duration = .seconds(30)
    /// Largest frame accepted from the server (a SNAPSHOT of a large db is the biggest).
    public var maximumFrameBytes: Int = 256 * 1024 * 1024
    /// Keep the whole db in memory and answer lookups from it, refreshed on every pushed change.
    public var cached: Bool = false
    /// Sent in HELLO; shows up in the server's logs.
    public var clientName: String = "release-chan-swift"

    public init(endpoints: [Endpoint]) {
        self.endpoints = endpoints
    }
}
