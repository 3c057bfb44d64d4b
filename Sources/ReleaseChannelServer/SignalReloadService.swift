import ReleaseChannelStore
import ServiceLifecycle
import UnixSignals

/// Reloads the db on SIGHUP, the conventional "re-read your configuration" signal.
struct SignalReloadService: Service {
    let coordinator: ReloadCoordinator

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            self.coordinator.requestReload(trigger: .signal)
        }
    }
}
