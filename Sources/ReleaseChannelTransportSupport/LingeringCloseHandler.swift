public import NIOCore

/// The first handler of a connection whose write side is closed and which waits for the peer to
/// close its own (``ChannelHandlerContext/writeAndFlushThenLingeringClose(_:gracePeriod:linger:)``):
/// what the peer still sends is read and dropped, so that it is never answered with a reset, and the
/// peer's end of input closes the connection (remote half-closure is allowed on these channels, so
/// NIO would not close it by itself).
final class LingeringCloseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

@available(*, unavailable)
extension LingeringCloseHandler: Sendable {}
