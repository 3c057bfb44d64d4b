import NIOCore

extension Channel {
    /// The peer's address for a log line; `unknown` once the channel no longer knows it.
    var remoteDescription: String {
        self.remoteAddress.map { "\($0)" } ?? "unknown"
    }
}
