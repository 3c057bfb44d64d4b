public import NIOCore

extension ChannelHandlerContext {
    /// Writes and flushes a connection's last bytes, then closes the channel once they are written, or
    /// after `gracePeriod`: they are written at once unless the socket is full, and a peer that has
    /// stopped reading must not keep the connection open on them.
    public func writeAndFlushThenClose(_ lastBytes: ByteBuffer, gracePeriod: TimeAmount) {
        let channel = self.channel
        let closeAnyway = self.eventLoop.scheduleTask(in: gracePeriod) { channel.close(promise: nil) }
        self.writeAndFlush(NIOAny(lastBytes)).whenComplete { _ in
            closeAnyway.cancel()
            channel.close(promise: nil)
        }
    }

    /// Writes and flushes a connection's last bytes like ``writeAndFlushThenClose(_:gracePeriod:)``, then
    /// closes only the write side (the peer gets them all and a FIN) and the whole connection when the
    /// peer closes its side, or after `linger`: a peer still sending when the connection is closed gets
    /// an RST for its next bytes, and its kernel drops what it had received and not yet read, the last
    /// response included (nginx's lingering close, for the same reason). Meanwhile what the peer sends
    /// is read and dropped in front of every other handler (``LingeringCloseHandler``). A nil
    /// `gracePeriod` leaves a peer that takes none of the bytes to another timeout.
    public func writeAndFlushThenLingeringClose(_ lastBytes: ByteBuffer, gracePeriod: TimeAmount?, linger: TimeAmount) {
        let channel = self.channel
        let closeAnyway = gracePeriod.map { grace in self.eventLoop.scheduleTask(in: grace) { channel.close(promise: nil) } }
        self.writeAndFlush(NIOAny(lastBytes)).whenComplete { written in
            closeAnyway?.cancel()
            guard case .success = written else {
                channel.close(promise: nil)
                return
            }
            do {
                try channel.pipeline.syncOperations.addHandler(LingeringCloseHandler(), position: .first)
            } catch {
                channel.close(promise: nil)
                return
            }
            // Set before the half-close, which NIO holds back while writes queued after these bytes wait
            // for a peer that has stopped reading: `linger` bounds that wait too, and a peer that keeps its
            // side open.
            let closeLater = channel.eventLoop.scheduleTask(in: linger) { channel.close(promise: nil) }
            channel.closeFuture.whenComplete { _ in closeLater.cancel() }
            channel.close(mode: .output).whenComplete { halfClosed in
                if case .failure = halfClosed { channel.close(promise: nil) }
            }
        }
    }
}
