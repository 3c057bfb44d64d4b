#if canImport(Glibc)
import Glibc
public import Logging
import NIOCore
import NIOPosix
public import ServiceLifecycle

/// Watches the db file's directory with inotify and asks for a reload when the file changes.
///
/// The directory is watched, not the file's inode: editors and `mv` replace the file by a rename (a new
/// inode), and a Kubernetes ConfigMap update swaps the `..data` symlink in the directory. Events for the
/// file's name or `..data` start a short debounce window; the reload reads the file after the window,
/// so one burst of writes costs one reload. When the directory itself goes (moved away, or deleted and
/// made again), the watch follows the path: it is set again on whatever directory is there, at once or,
/// while there is none, every second; a reload is asked for either way.
public final class DatabaseFileWatcher: Service, Sendable {
    static let watchedEvents =
        UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO) | UInt32(IN_CREATE) | UInt32(IN_DELETE) | UInt32(IN_MOVED_FROM)
        | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF)

    private let path: String
    private let coordinator: ReloadCoordinator
    private let debounce: TimeAmount
    private let logger: Logger

    public init(path: String, coordinator: ReloadCoordinator, debounce: TimeAmount = .milliseconds(100), logger: Logger) {
        self.path = path
        self.coordinator = coordinator
        self.debounce = debounce
        self.logger = logger
    }

    public func run() async throws {
        let directory = Self.directory(of: self.path)
        let name = Self.fileName(of: self.path)
        let descriptor = inotify_init1(Int32(IN_NONBLOCK) | Int32(IN_CLOEXEC))
        guard descriptor >= 0 else {
            self.logger.warning("inotify unavailable, relying on the periodic check", metadata: ["errno": "\(errno)"])
            try? await gracefulShutdown()
            return
        }
        guard inotify_add_watch(descriptor, directory, Self.watchedEvents) >= 0 else {
            let code = errno
            close(descriptor)
            self.logger.warning(
                "cannot watch the db directory, relying on the periodic check",
                metadata: ["directory": "\(directory)", "errno": "\(code)"]
            )
            try? await gracefulShutdown()
            return
        }
        let coordinator = self.coordinator
        let debounce = self.debounce
        let channel: any Channel
        do {
            channel = try await NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                // inotify returns whole events only; a read buffer smaller than one event fails with EINVAL.
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 64 * 1024))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            InotifyEventHandler(descriptor: descriptor, directory: directory, names: [name, "..data"], debounce: debounce) {
                                coordinator.requestReload(trigger: .fileWatch)
                            }
                        )
                    }
                }
                .takingOwnershipOfDescriptor(input: descriptor)
                .get()
        } catch {
            close(descriptor)
            self.logger.warning("cannot read inotify events, relying on the periodic check", metadata: ["error": "\(error)"])
            try? await gracefulShutdown()
            return
        }
        self.logger.debug("watching db directory", metadata: ["directory": "\(directory)", "file": "\(name)"])
        // Changes between the initial load and the watch being set would otherwise go unnoticed.
        coordinator.requestReload(trigger: .fileWatch)
        try? await gracefulShutdown()
        try? await channel.close()
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }

    static func fileName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

/// Parses `struct inotify_event` records and calls `onChange` once per debounce window; sets the
/// directory's watch again when the directory it was on goes away.
private final class InotifyEventHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// The inotify instance (owned by the channel this handler is in).
    private let descriptor: Int32
    private let directory: String
    private let names: Set<String>
    private let debounce: TimeAmount
    private let onChange: @Sendable () -> Void
    private var scheduled: Scheduled<Void>?
    private var rewatch: Scheduled<Void>?

    init(descriptor: Int32, directory: String, names: Set<String>, debounce: TimeAmount, onChange: @escaping @Sendable () -> Void) {
        self.descriptor = descriptor
        self.directory = directory
        self.names = names
        self.debounce = debounce
        self.onChange = onChange
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unwrapInboundIn(data)
        var relevant = false
        var directoryGone = false
        // struct inotify_event { int wd; uint32_t mask; uint32_t cookie; uint32_t len; char name[len]; }
        while let header = buffer.readMultipleIntegers(endianness: .host, as: (Int32, UInt32, UInt32, UInt32).self) {
            let (watch, mask, _, length) = header
            guard let nameBytes = buffer.readBytes(length: Int(length)) else { break }
            let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
            if mask & UInt32(IN_Q_OVERFLOW) != 0 || self.names.contains(name) { relevant = true }
            if mask & (UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF) | UInt32(IN_IGNORED)) != 0 {
                // A moved directory is still watched where it went: that watch is of no use any more.
                if mask & UInt32(IN_MOVE_SELF) != 0 { _ = inotify_rm_watch(self.descriptor, watch) }
                directoryGone = true
                relevant = true
            }
        }
        if directoryGone { self.watchAgain(context: context) }
        guard relevant, self.scheduled == nil else { return }
        let onChange = self.onChange
        self.scheduled = context.eventLoop.assumeIsolated().scheduleTask(in: self.debounce) {
            self.scheduled = nil
            onChange()
        }
    }

    /// Sets the watch on the directory now at the path; while there is none, tries again every second
    /// (the periodic check reloads meanwhile), and asks for a reload once a later try sets it (the
    /// event that started this asked for one already).
    private func watchAgain(context: ChannelHandlerContext, reloadWhenSet: Bool = false) {
        self.rewatch?.cancel()
        self.rewatch = nil
        guard inotify_add_watch(self.descriptor, self.directory, DatabaseFileWatcher.watchedEvents) < 0 else {
            if reloadWhenSet { self.onChange() }
            return
        }
        self.rewatch = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(1)) {
            self.rewatch = nil
            self.watchAgain(context: context, reloadWhenSet: true)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.scheduled?.cancel()
        self.scheduled = nil
        self.rewatch?.cancel()
        self.rewatch = nil
    }
}

@available(*, unavailable)
extension InotifyEventHandler: Sendable {}
#endif
