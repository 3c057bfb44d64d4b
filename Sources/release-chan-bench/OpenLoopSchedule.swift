import NIOCore

/// The open-loop schedule of one connection: when called, it sends every request that has fallen due,
/// then asks the event loop to call it again at the next due time, an absolute time (a fixed delay after
/// each send would drift and count the drift as latency).
///
/// One schedule is made per connection and handed to `scheduleCallback` on every tick, so a tick
/// allocates nothing: a `scheduleTask` per tick (a closure, a promise and its future) had cost about
/// three mallocs per request, taken from the CPU the measured server shares.
final class OpenLoopSchedule: NIOScheduledCallbackHandler, Sendable {
    private struct State {
        let connection: StreamLoadHandler
        let context: ChannelHandlerContext
        /// When the next request is due.
        var due: NIODeadline
        var callback: NIOScheduledCallback?
        var isCancelled = false
    }

    private let state: NIOLoopBoundBox<State>
    private let interval: TimeAmount

    /// Made on the connection's event loop; the first request is due at `start`.
    init(connection: StreamLoadHandler, context: ChannelHandlerContext, interval: TimeAmount, start: NIODeadline) {
        self.state = NIOLoopBoundBox(
            State(connection: connection, context: context, due: start, callback: nil),
            eventLoop: context.eventLoop
        )
        self.interval = interval
    }

    /// Schedules the call for the request due next. An event loop that is shutting down refuses it, and
    /// the connection is closing then anyway.
    func schedule() {
        let due = self.state.value.due
        self.state.value.callback = try? self.state.value.context.eventLoop.scheduleCallback(at: due, handler: self)
    }

    /// Stops the schedule: a call already scheduled is dropped, and a tick running now schedules no
    /// other. The connection lets go of the schedule when it closes, which ends their reference cycle.
    func cancel() {
        self.state.value.isCancelled = true
        self.state.value.callback?.cancel()
        self.state.value.callback = nil
    }

    func handleScheduledCallback(eventLoop: some EventLoop) {
        let connection = self.state.value.connection
        let context = self.state.value.context
        var due = self.state.value.due
        self.state.value.callback = nil
        guard due < connection.driver.stopAt else {
            if connection.driver.isFinished { context.close(promise: nil) }
            return
        }
        // Catch up on every request that fell due while the loop was busy, each stamped with its own
        // intended time.
        let now = NIODeadline.now()
        repeat {
            connection.send(context: context, intendedStart: due)
            due = due + self.interval
        } while due <= now && due < connection.driver.stopAt
        connection.flushRequests(context: context)
        self.state.value.due = due
        // A write that failed may have closed the connection, which cancels its schedule.
        if !self.state.value.isCancelled { self.schedule() }
    }
}
