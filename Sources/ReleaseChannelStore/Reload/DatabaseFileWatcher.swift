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
/// while there is none, every second; a reload is asked for either way. When the path is a symlink to a
/// file in another directory, that directory is watched too (and followed when the link changes): a
/// change there makes no event in the link's directory.
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
        let directoryWatch = inotify_add_watch(descriptor, directory, Self.watchedEvents)
        guard directoryWatch >= 0 else {
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
                            InotifyEventHandler(
                                descriptor: descriptor, path: self.path, directory: directory, directoryWatch: directoryWatch, name: name, debounce: debounce
                            ) {
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
/// directory's watch again when the directory it was on goes away, and keeps a symlinked path's target
/// watched.
private final class InotifyEventHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private static let gone = UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF) | UInt32(IN_IGNORED)

    /// The inotify instance (owned by the channel this handler is in).
    private let descriptor: Int32
    private let path: String
    private let directory: String
    private var directoryWatch: Int32
    /// The file's name and `..data`, in the path's directory.
    private let names: Set<String>
    /// When the path is a symlink: the file it points to, and its directory's own watch (nil when that
    /// directory is the path's, already watched).
    private var target: (directory: String, name: String, watch: Int32?)?
    /// Watches removed here, whose IN_IGNORED is still to come.
    private var removedWatches: Set<Int32> = []
    private let debounce: TimeAmount
    private let onChange: @Sendable () -> Void
    private var scheduled: Scheduled<Void>?
    private var rewatch: Scheduled<Void>?

    init(
        descriptor: Int32, path: String, directory: String, directoryWatch: Int32, name: String, debounce: TimeAmount,
        onChange: @escaping @Sendable () -> Void
    ) {
        self.descriptor = descriptor
        self.path = path
        self.directory = directory
        self.directoryWatch = directoryWatch
        self.names = [name, "..data"]
        self.debounce = debounce
        self.onChange = onChange
        self.followTarget()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unwrapInboundIn(data)
        var relevant = false
        var directoryGone = false
        var targetGone = false
        // struct inotify_event { int wd; uint32_t mask; uint32_t cookie; uint32_t len; char name[len]; }
        while let header = buffer.readMultipleIntegers(endianness: .host, as: (Int32, UInt32, UInt32, UInt32).self) {
            let (watch, mask, _, length) = header
            guard let nameBytes = buffer.readBytes(length: Int(length)) else { break }
            let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
            if self.removedWatches.contains(watch) {
                if mask & UInt32(IN_IGNORED) != 0 { self.removedWatches.remove(watch) }
                continue
            }
            if mask & UInt32(IN_Q_OVERFLOW) != 0 { relevant = true }
            if let target = self.target, let targetWatch = target.watch, watch == targetWatch {
                if name == target.name { relevant = true }
                if mask & Self.gone != 0 {
                    // Gone or moved away: watched again at the path the link names, below.
                    self.forget(watch, removing: mask & UInt32(IN_MOVE_SELF) != 0, ignored: mask & UInt32(IN_IGNORED) != 0)
                    targetGone = true
                    relevant = true
                }
                continue
            }
            if self.names.contains(name) || (self.target.map { $0.watch == nil && $0.name == name } ?? false) { relevant = true }
            if mask & Self.gone != 0 {
                // A moved directory is still watched where it went: that watch is of no use any more.
                if mask & UInt32(IN_MOVE_SELF) != 0 { _ = inotify_rm_watch(self.descriptor, watch) }
                directoryGone = true
                relevant = true
            }
        }
        if directoryGone { self.watchAgain(context: context) }
        if targetGone { self.target = nil }
        // The link may point elsewhere now, or its target's directory be back.
        if relevant { self.followTarget() }
        guard relevant, self.scheduled == nil else { return }
        let onChange = self.onChange
        self.scheduled = context.eventLoop.assumeIsolated().scheduleTask(in: self.debounce) {
            self.scheduled = nil
            onChange()
        }
    }

    /// Drops a watch of the target's directory; its IN_IGNORED (unless this was it) is skipped.
    private func forget(_ watch: Int32, removing: Bool, ignored: Bool) {
        if removing { _ = inotify_rm_watch(self.descriptor, watch) }
        if !ignored { self.removedWatches.insert(watch) }
    }

    /// Watches the directory of the file the path's symlink points to, when that is not the path's own
    /// directory: a write there makes no event in the link's directory. Moves the watch when the link
    /// has come to point elsewhere.
    private func followTarget() {
        let resolved = AtomicFileWriter.followingSymlink(self.path)
        guard resolved != self.path else {
            if let watch = self.target?.watch { self.forget(watch, removing: true, ignored: false) }
            self.target = nil
            return
        }
        let directory = DatabaseFileWatcher.directory(of: resolved)
        let name = DatabaseFileWatcher.fileName(of: resolved)
        if let target = self.target, target.directory == directory, target.name == name { return }
        if let watch = self.target?.watch { self.forget(watch, removing: true, ignored: false) }
        self.target = nil
        guard directory != self.directory else {
            self.target = (directory, name, nil)
            return
        }
        let watch = inotify_add_watch(self.descriptor, directory, DatabaseFileWatcher.watchedEvents)
        // Not watchable now (gone, no permission): tried again on the next event; the periodic check
        // sees changes meanwhile.
        guard watch >= 0 else { return }
        // The same directory by another name (a symlinked directory on the way): its watch is the path's.
        self.target = (directory, name, watch == self.directoryWatch ? nil : watch)
    }

    /// Sets the watch on the directory now at the path; while there is none, tries again every second
    /// (the periodic check reloads meanwhile), and asks for a reload once a later try sets it (the
    /// event that started this asked for one already).
    private func watchAgain(context: ChannelHandlerContext, reloadWhenSet: Bool = false) {
        self.rewatch?.cancel()
        self.rewatch = nil
        let watch = inotify_add_watch(self.descriptor, self.directory, DatabaseFileWatcher.watchedEvents)
        guard watch < 0 else {
            self.directoryWatch = watch
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
