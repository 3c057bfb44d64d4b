import NIOCore

/// What the TCP and HTTP load handlers have in common: a driver and a way to send one request.
protocol LoadConnection: AnyObject {
    var driver: LoadDriver { get set }
    var ticker: RepeatedTask? { get set }
    func send(context: ChannelHandlerContext, intendedStart: NIODeadline)
}

extension LoadConnection {
    /// Starts sending: `pipeline` requests at once (closed loop) or one per interval (open loop), and
    /// closes the connection two seconds after the end whatever happens.
    func startLoad(context: ChannelHandlerContext) {
        if let interval = self.driver.interval {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            var next = NIODeadline.now()
            self.ticker = context.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { task in
                let (connection, context) = loopBound.value
                guard NIODeadline.now() < connection.driver.stopAt else {
                    task.cancel()
                    if connection.driver.isFinished { context.close(promise: nil) }
                    return
                }
                connection.send(context: context, intendedStart: next)
                next = next + interval
                context.flush()
            }
        } else {
            for _ in 0..<self.driver.pipeline { self.send(context: context, intendedStart: .now()) }
            context.flush()
        }
        let channel = context.channel
        context.eventLoop.scheduleTask(deadline: self.driver.stopAt + .seconds(2)) { channel.close(promise: nil) }
    }

    /// Records a reply and sends the next request (closed loop) or closes once everything is answered.
    func replied(context: ChannelHandlerContext, ok: Bool) {
        if self.driver.reply(ok: ok) {
            self.send(context: context, intendedStart: .now())
            context.flush()
        } else if self.driver.isFinished {
            context.close(promise: nil)
        }
    }
}
