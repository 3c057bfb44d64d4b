public import NIOCore

/// The first handler of a connection whose write side is being closed and which waits for the peer
/// to close its own (``ChannelHandlerContext/writeAndFlushThenLingeringClose(_:gracePeriod:linger:)``):
/// what the peer still sends is read and dropped, so that it is never answered with a reset. (The
/// peer's end of input then closes the channel: NIO closes it fully on EOF once its output is shut.)
/// A graceful shutdown closes it at once: the handlers behind, which it would otherwise reach, wait
/// for a request end that the dropped reads will never bring (NIO's HTTPServerPipelineHandler).
final class LingeringCloseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            context.close(promise: nil)
        } else if case ChannelEvent.inputClosed = event {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

@available(*, unavailable)
extension LingeringCloseHandler: Sendable {}
