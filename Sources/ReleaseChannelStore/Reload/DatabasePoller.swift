public import Logging
public import ServiceLifecycle

/// The fallback trigger: every `interval` it compares the file's identity (inode, size, mtime) with the
/// last one seen and asks for a reload when it differs, so a missed inotify event (NFS, overlay file
/// systems, a full event queue) is caught within one interval.
public final class DatabasePoller: Service, Sendable {
    private let coordinator: ReloadCoordinator
    private let interval: Duration
    private let logger: Logger

    public init(coordinator: ReloadCoordinator, interval: Duration, logger: Logger) {
        self.coordinator = coordinator
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let file = self.coordinator.file
        var last = file.fingerprint()
        let interval = self.interval
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            let now = file.fingerprint()
            if now != last {
                self.logger.debug("db file changed on disk", metadata: ["path": "\(file.path)"])
                self.coordinator.requestReload(trigger: .poll)
                last = now
            }
        }
    }
}
