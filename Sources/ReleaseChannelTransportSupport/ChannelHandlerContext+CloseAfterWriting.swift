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
}
