import ReleaseChannelStore
import ServiceLifecycle
import UnixSignals

/// Reloads the db on SIGHUP, the conventional "re-read your configuration" signal.
///
/// The signal is trapped by whoever makes ``signals``, before the first load: SIGHUP's default action
/// ends the process, and loading a large db takes seconds. One that arrives meanwhile is delivered when
/// the service runs, and reloads then.
struct SignalReloadService: Service {
    let coordinator: ReloadCoordinator
    let signals: UnixSignalsSequence

    func run() async throws {
        for await _ in self.signals.cancelOnGracefulShutdown() {
            self.coordinator.requestReload(trigger: .signal)
        }
    }
}
