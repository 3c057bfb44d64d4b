import ReleaseChannelClient
import Synchronization

/// Says on standard error when every connection is lost and when one is back: a watch that went quiet
/// while its server restarted could not be told from one with nothing to report.
final class ConnectionReport: Sendable {
    private let lost = Mutex(false)

    /// Reports the client's state changes until the task is cancelled.
    func follow(_ client: ReleaseChannelClient) async {
        for await state in client.stateChanges() {
            switch state {
            case .reconnecting:
                if !self.lost.withLock({ lost in defer { lost = true }; return lost }) {
                    FileHandleOutput.standardError("release-chan watch: connection lost; reconnecting (changes made meanwhile are reported on reconnecting)")
                }
            case .ready:
                self.reconnected(client)
            default:
                break
            }
        }
    }

    /// Reports the reconnect once, whichever notices it first: the state change or a change that came
    /// with it (a change pushed before the loss can still be read after it: only a client that is ready
    /// counts).
    func reconnected(_ client: ReleaseChannelClient) {
        guard client.state == .ready else { return }
        if self.lost.withLock({ lost in defer { lost = false }; return lost }) { FileHandleOutput.standardError("release-chan watch: reconnected") }
    }
}
