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
/// while there is none, every second; a reload is asked for either way. When the path is a symlink, the
/// directory of every link in the chain and of the file at its end are watched too, for those names
/// (a change there makes no event in the path's directory), and the watches follow the chain when a
/// link changes; a directory on it that is missing is tried again every second.
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
/// directory's watch again when the directory it was on goes away, and keeps a symlinked path's chain
/// watched.
private final class InotifyEventHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private static let gone = UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF) | UInt32(IN_IGNORED)
    /// Links followed at most, as the kernel does (its limit is 40).
    private static let maximumLinks = 40

    /// The inotify instance (owned by the channel this handler is in).
    private let descriptor: Int32
    private let path: String
    private let directory: String
    private var directoryWatch: Int32
    /// The file's name and `..data`, in the path's directory.
    private let names: Set<String>
    /// The names that matter per watch: the path's directory's, and for a symlinked path those of the
    /// links and the file along the chain, in their directories.
    private var namesByWatch: [Int32: Set<String>] = [:]
    /// Watches added for the chain (not the path's directory's own).
    private var chainWatches: Set<Int32> = []
    /// Watches removed here (or gone), whose IN_IGNORED is still to come.
    private var removedWatches: Set<Int32> = []
    private let debounce: TimeAmount
    private let onChange: @Sendable () -> Void
    private var scheduled: Scheduled<Void>?
    private var rewatch: Scheduled<Void>?
    private var chainRetry: Scheduled<Void>?

    init(
        descriptor: Int32, path: String, directory: String, directoryWatch: Int32, name: String, debounce: TimeAmount,
        onChange: @escaping @Sendable () -> Void
    ) {
        self.descriptor = descriptor
        self.path = path
        self.directory = directory
        self.directoryWatch = directoryWatch
        self.names = [name, "..data"]
        self.namesByWatch = [directoryWatch: self.names]
        self.debounce = debounce
        self.onChange = onChange
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.followChain(context: context)
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
            if self.removedWatches.contains(watch) {
                if mask & UInt32(IN_IGNORED) != 0 { self.removedWatches.remove(watch) }
                continue
            }
            if mask & UInt32(IN_Q_OVERFLOW) != 0 || self.namesByWatch[watch]?.contains(name) == true { relevant = true }
            guard mask & Self.gone != 0 else { continue }
            relevant = true
            // A moved directory is still watched where it went: that watch is of no use any more.
            if mask & UInt32(IN_MOVE_SELF) != 0 { _ = inotify_rm_watch(self.descriptor, watch) }
            // Its IN_IGNORED follows (unless this is it): skipped, whatever the watch is by then.
            if mask & UInt32(IN_IGNORED) == 0 { self.removedWatches.insert(watch) }
            self.namesByWatch.removeValue(forKey: watch)
            if self.chainWatches.remove(watch) == nil { directoryGone = true }
        }
        if directoryGone { self.watchAgain(context: context) }
        // A link on the chain may point elsewhere now, or a directory on it be gone or back.
        if relevant { self.followChain(context: context) }
        guard relevant, self.scheduled == nil else { return }
        let onChange = self.onChange
        self.scheduled = context.eventLoop.assumeIsolated().scheduleTask(in: self.debounce) {
            self.scheduled = nil
            onChange()
        }
    }

    /// Watches the directory of each link on the path's chain and of the file at its end, for those
    /// names, and drops the watches of directories no longer on it. A directory that cannot be watched
    /// (missing, no permission) is tried again every second, with a reload once it can be: a file made
    /// there meanwhile made no event the watch saw.
    private func followChain(context: ChannelHandlerContext, reloadWhenComplete: Bool = false) {
        self.chainRetry?.cancel()
        self.chainRetry = nil
        var wanted: [Int32: Set<String>] = [self.directoryWatch: self.names]
        var complete = true
        for (directory, name) in Self.chain(of: self.path) {
            // The same directory again (or the path's own) gives the watch it already has.
            let watch = inotify_add_watch(self.descriptor, directory, DatabaseFileWatcher.watchedEvents)
            guard watch >= 0 else {
                complete = false
                continue
            }
            wanted[watch, default: []].insert(name)
        }
        for watch in self.chainWatches where wanted[watch] == nil {
            _ = inotify_rm_watch(self.descriptor, watch)
            self.removedWatches.insert(watch)
        }
        self.chainWatches = Set(wanted.keys).subtracting([self.directoryWatch])
        self.namesByWatch = wanted
        if complete {
            if reloadWhenComplete { self.onChange() }
            return
        }
        self.chainRetry = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(1)) {
            self.chainRetry = nil
            self.followChain(context: context, reloadWhenComplete: true)
        }
    }

    /// Each link `path` leads through, after `path` itself, and the file at the end, as (directory,
    /// name); empty when `path` is no symlink. Relative targets are taken from the link's directory,
    /// as the kernel does; the directories are not resolved (inotify follows them).
    static func chain(of path: String) -> [(directory: String, name: String)] {
        var chain: [(directory: String, name: String)] = []
        var current = path
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        for _ in 0..<Self.maximumLinks {
            let length = readlink(current, &buffer, buffer.count - 1)
            guard length > 0 else { break }
            let target = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = target.hasPrefix("/") ? target : "\(DatabaseFileWatcher.directory(of: current))/\(target)"
            chain.append((DatabaseFileWatcher.directory(of: current), DatabaseFileWatcher.fileName(of: current)))
        }
        return chain
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
            self.followChain(context: context)
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
        self.chainRetry?.cancel()
        self.chainRetry = nil
    }
}

@available(*, unavailable)
extension InotifyEventHandler: Sendable {}
#endif
