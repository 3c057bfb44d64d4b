import NIOCore

/// How a connection under load is driven (``StreamLoadHandler``, for every mode): a driver, a way to
/// send one request, and how a connection ends.
protocol LoadConnection: AnyObject, SendableMetatype {
    var driver: LoadDriver { get set }
    /// The open-loop schedule, while one runs.
    var schedule: OpenLoopSchedule? { get set }
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
            let schedule = OpenLoopSchedule(connection: self, context: context, interval: interval, start: .now())
            self.schedule = schedule
            schedule.schedule()
        } else {
            for _ in 0..<self.driver.pipeline { self.send(context: context, intendedStart: .now()) }
            self.flushRequests(context: context)
        }
        let channel = context.channel
        context.eventLoop.scheduleTask(deadline: self.driver.stopAt + .seconds(2)) { channel.close(promise: nil) }
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
        self.schedule?.cancel()
        self.schedule = nil
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
