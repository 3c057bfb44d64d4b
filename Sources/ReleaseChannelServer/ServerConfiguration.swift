import ReleaseChannelProtocol
import ReleaseChannelStore

/// Everything `release-chan serve` can be told; the CLI fills it from flags and `RELEASE_CHAN_*`.
public struct ServerConfiguration: Sendable {
    /// Path of the db file.
    public var databasePath: String = "db/db.json"
    /// Address to bind; `0.0.0.0` serves every interface.
    public var host: String = "0.0.0.0"
    /// HTTP port; 0 picks a free port (tests).
    public var httpPort: Int = 8089
    /// Port of the binary lookup protocol; 0 picks a free port (tests).
    public var tcpPort: Int = 8090
    /// An HTTP connection that sends nothing in this time, with no response left to write, is closed; so is
    /// one whose client takes none of a response in this time.
    public var httpIdleTimeout: Duration = .seconds(75)
    /// An HTTP connection whose client takes longer than this to send a request head (counted from the
    /// first read that leaves the head incomplete) is answered 408 and closed, as nginx's
    /// `client_header_timeout`.
    public var httpRequestHeadTimeout: Duration = .seconds(20)
    /// HTTP connections over this number are answered 503 `too_many_connections` and closed.
    public var httpMaximumConnections: Int = 4096
    /// A protocol connection that completes no frame in this time is closed, unless a reply is still being
    /// sent to it and its client took some of it in that time.
    public var tcpIdleTimeout: Duration = .seconds(300)
    /// Protocol connections over this number are turned away with ERROR BUSY.
    public var tcpMaximumConnections: Int = 1024
    /// Largest frame a protocol client may send, length prefix included; announced as `max_frame` in the
    /// HELLO reply. The CLI accepts 1 KiB to 16 MiB.
    public var tcpMaximumFrameBytes: Int = ProtocolMessages.defaultMaximumRequestFrame
    /// Fallback check of the db file when no inotify event arrives.
    public var reloadInterval: Duration = .seconds(30)
    /// Largest db file accepted.
    public var maximumDatabaseBytes: Int = DatabaseFile.defaultMaximumBytes
    /// Bearer token for `POST /v1/reload`; nil allows loopback callers only.
    public var adminToken: String?
    /// One log line per request.
    public var accessLog: Bool = true
    /// Watch the db directory with inotify.
    public var watchFile: Bool = true
    /// Time between `/v1/ready` turning 503 and the listener closing, for load balancers to notice.
    public var drainDelay: Duration = .zero
    /// Upper bound for in-flight requests to finish after SIGTERM.
    public var shutdownTimeout: Duration = .seconds(10)
    /// After the shutdown timeout, services are cancelled; a service still running after this long more
    /// ends the process (ServiceLifecycle's last resort). nil waits for ever (embedded uses, tests).
    public var cancellationTimeout: Duration? = .seconds(5)
    /// Trap SIGTERM/SIGINT (graceful shutdown) and SIGHUP (reload); off when embedded in tests.
    public var handleSignals: Bool = true

    public init() {}
}
