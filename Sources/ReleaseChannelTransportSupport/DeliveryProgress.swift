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
    /// What a check found.
    public enum Finding: Sendable, Equatable {
        /// Nothing waits to be written: whether the connection is idle is the caller's question.
        case nothingQueued
        /// Bytes wait, and the peer acknowledged some since the previous check (or this is the first
        /// check with bytes waiting, or the count is unknown: off Linux, a kernel before 4.1).
        case taking
        /// `queuedBytes` wait, and the peer acknowledged none of what was sent since the previous check.
        case stopped(queuedBytes: Int)
    }

    private var acknowledgedAtLastCheck: UInt64?

    public init() {}

    /// Checks `channel`, on its event loop, at one of the caller's checks a timeout apart.
    public mutating func check(_ channel: any Channel) -> Finding {
        let queuedBytes = (try? channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        guard queuedBytes > 0 else {
            self.acknowledgedAtLastCheck = nil
            return .nothingQueued
        }
        let acknowledged = Self.acknowledgedBytes(on: channel)
        defer { self.acknowledgedAtLastCheck = acknowledged }
        guard let acknowledged, acknowledged > 0, acknowledged == self.acknowledgedAtLastCheck else { return .taking }
        return .stopped(queuedBytes: queuedBytes)
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
