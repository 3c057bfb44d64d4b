import CSystemShims
public import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Whether the peer of a connection with replies still queued for it is taking any of them, judged at
/// checks a timeout apart (the idle checks of both transports): the bytes the peer has acknowledged,
/// the kernel's `tcpi_bytes_acked`, are noted at each check, and a peer that acknowledged nothing since
/// the previous one has stopped reading.
///
/// NIO's own measure of progress would not do: it sees a write complete only when all of it is out (a
/// `FileRegion`, a whole-db answer, at its end), and the kernel takes more from it only once a third of
/// the socket's buffer is free, however steadily a slow peer reads.
public struct DeliveryProgress: Sendable {
    private var acknowledgedAtLastCheck: UInt64?

    public init() {}

    /// At a check that found bytes queued on `channel`: true when its peer acknowledged none of what was
    /// sent to it since the previous such check. The first check only takes note, and so does every
    /// check where the count is unknown (off Linux, a kernel before 4.1): the connection is then kept.
    /// Must be called on the channel's event loop.
    public mutating func peerHasStopped(on channel: any Channel) -> Bool {
        let acknowledged = Self.acknowledgedBytes(on: channel)
        defer { self.acknowledgedAtLastCheck = acknowledged }
        guard let acknowledged, acknowledged > 0 else { return false }
        return acknowledged == self.acknowledgedAtLastCheck
    }

    /// Forgets the last check's count: called at a check that found nothing queued.
    public mutating func reset() {
        self.acknowledgedAtLastCheck = nil
    }

    private static func acknowledgedBytes(on channel: any Channel) -> UInt64? {
        #if os(Linux)
        guard let provider = channel as? any SocketOptionProvider else { return nil }
        // glibc's `tcp_info` stops before `tcpi_bytes_acked`, so the kernel's struct is read as bytes.
        let info: EventLoopFuture<release_chan_tcp_info> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(IPPROTO_TCP),
            name: SocketOptionName(TCP_INFO)
        )
        // On the channel's event loop the option is read at once and the future is already complete,
        // so its callback runs before this returns.
        var acknowledged: UInt64?
        info.assumeIsolated().whenSuccess { info in
            var info = info
            acknowledged = release_chan_tcp_bytes_acked(&info)
        }
        return acknowledged
        #else
        return nil
        #endif
    }
}
