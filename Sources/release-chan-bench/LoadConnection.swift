import NIOCore

/// What the load handlers (``StreamLoadHandler`` for tcp and redis, ``HTTPLoadHandler``) have in
/// common: a driver, a way to send one request, and how a connection ends.
protocol LoadConnection: AnyObject, SendableMetatype {
    var driver: LoadDriver { get set }
    var ticker: Scheduled<Void>? { get set }
    /// Completed with the connection's results when it closes.
    var done: EventLoopPromise<ConnectionResult> { get }
    /// Requests written since the last flush; flushed once per read batch.
    var needsFlush: Bool { get set }
    /// Queues one request.
    func send(context: ChannelHandlerContext, intendedStart: NIODeadline)
    /// Writes out the requests queued since the last call.
    func flushRequests(context: ChannelHandlerContext)
}

extension LoadConnection {
    /// Starts sending: `pipeline` requests at once (closed loop) or one per interval (open loop), and
    /// closes the connection two seconds after the end whatever happens.
    func startLoad(context: ChannelHandlerContext) {
        if let interval = self.driver.interval {
            self.tick(context: context, at: NIODeadline.now(), interval: interval)
        } else {
            for _ in 0..<self.driver.pipeline { self.send(context: context, intendedStart: .now()) }
            self.flushRequests(context: context)
        }
        let channel = context.channel
        context.eventLoop.scheduleTask(deadline: self.driver.stopAt + .seconds(2)) { channel.close(promise: nil) }
    }

    /// Open loop: sends the request due at `deadline`, then schedules the next one at an absolute time
    /// (a fixed delay after each send would drift and count the drift as latency).
    private func tick(context: ChannelHandlerContext, at deadline: NIODeadline, interval: TimeAmount) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.ticker = context.eventLoop.scheduleTask(deadline: deadline) {
            let (connection, context) = loopBound.value
            guard deadline < connection.driver.stopAt else {
                if connection.driver.isFinished { context.close(promise: nil) }
                return
            }
            // Catch up on every request that fell due while the loop was busy, each stamped with its own
            // intended time.
            var due = deadline
            let now = NIODeadline.now()
            repeat {
                connection.send(context: context, intendedStart: due)
                due = due + interval
            } while due <= now && due < connection.driver.stopAt
            connection.flushRequests(context: context)
            connection.tick(context: context, at: due, interval: interval)
        }
    }

    /// Records a reply received at `now` and queues the next request (closed loop; flushed at the end of
    /// the read batch) or closes once everything is answered. The replies of one read all arrived with
    /// that read, so they share its timestamp (one clock read per batch, not two per reply).
    func replied(context: ChannelHandlerContext, ok: Bool, now: NIODeadline) {
        if self.driver.reply(ok: ok, at: now) {
            self.send(context: context, intendedStart: now)
            self.needsFlush = true
        } else if self.driver.isFinished {
            context.close(promise: nil)
        }
    }

    /// The connection closed: stops the open-loop schedule and hands in the results.
    func finish() {
        self.ticker?.cancel()
        self.done.succeed(self.driver.result)
    }

    /// A connection-level failure (refused, reset, a reply that cannot be read): counted, and the
    /// connection closed.
    func fail(context: ChannelHandlerContext) {
        self.driver.result.connectionErrors += 1
        context.close(promise: nil)
    }

    /// Flushes the requests queued while reading a batch of replies.
    func readComplete(context: ChannelHandlerContext) {
        if self.needsFlush {
            self.needsFlush = false
            self.flushRequests(context: context)
        }
    }
}
