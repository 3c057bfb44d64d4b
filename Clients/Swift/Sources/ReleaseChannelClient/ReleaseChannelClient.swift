public import Foundation
public import Logging
public import NIOCore
import NIOPosix
public import ReleaseChannelProtocol
import Synchronization

/// A client of the release-chan binary protocol: a small pool of pipelined connections with failover,
/// reconnection, revision-change notifications and an optional in-memory cache of the whole db.
///
/// ```swift
/// let configuration = ReleaseChannelClientConfiguration(endpoints: [.init(host: "release-chan", port: 8090)])
/// try await ReleaseChannelClient.withClient(configuration: configuration) { client in
///     let release = try await client.release(container: "my-app", channel: "prod")
///     print(release?.image ?? "not released")
/// }
/// ```
public final class ReleaseChannelClient: Sendable {
    /// Connection health, for readiness checks of the calling service.
    public enum State: Sendable, Equatable {
        /// Not connected yet.
        case connecting
        /// At least one connection is up.
        case ready
        /// Every connection is down; reconnecting with backoff.
        case reconnecting
        /// Closed, or gave up after ``ReleaseChannelClientConfiguration/maximumReconnectAttempts``.
        case failed
    }

    private struct Shared {
        var connections: [Int: ProtocolConnection] = [:] {
            didSet { self.pool = self.connections.sorted { $0.key < $1.key }.map(\.value) }
        }
        /// `connections` in slot order, for the request path to pick from without sorting.
        var pool: [ProtocolConnection] = []
        var state: State = .connecting {
            // Yielding does not run the subscriber here: it only hands the value to its stream.
            didSet { if self.state != oldValue { for subscriber in self.stateSubscribers.values { subscriber.yield(self.state) } } }
        }
        var stateSubscribers: [Int: AsyncStream<State>.Continuation] = [:]
        var nextConnection: UInt = 0
        var closed = false
        var cache: CachedDatabase?
        /// The connection the WATCH is on; cached mode fetches its snapshots there, from the server whose
        /// pushes it follows.
        var watching: ProtocolConnection?
        var lastRevision: Revision?
        /// Pushes seen; a WATCH reply only sets the baseline when no push overtook it.
        var pushes = 0
        /// In cached mode a change is announced once the cache holds it.
        var unannounced: [RevisionChange] = []
        var subscribers: [Int: AsyncStream<RevisionChange>.Continuation] = [:]
        var nextSubscriber = 0
        /// Calls waiting for a connection: woken when one comes up, when a slot gives up, or on close.
        var connectionWaiters: [Int: AsyncStream<Void>.Continuation] = [:]
        var nextConnectionWaiter = 0
        /// Cached mode: why the last refresh failed, and how many in a row have (0 after one succeeds).
        var refreshError: ReleaseChannelClientError?
        var failedRefreshes = 0
        /// Per endpoint (by index), why its last connect failed; removed when one succeeds.
        var connectFailures: [Int: String] = [:]
        /// Endpoints (by index) a connect to is in progress.
        var connecting: [Int: Int] = [:]
    }

    /// The configuration the client was created with; it stays the same for the client's lifetime.
    public let configuration: ReleaseChannelClientConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let shared = Mutex(Shared())
    private let closeSignal: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)
    private let refreshSignal: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)
    /// Yielded when a slot connects, for the watch loop waiting for a connection to subscribe on.
    private let connectedSignal: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)

    /// Creates a client; ``run()`` (or ``withClient(configuration:eventLoopGroup:logger:_:)``) connects it.
    public init(
        configuration: ReleaseChannelClientConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "release_chan.client")
    ) {
        self.configuration = configuration
        self.group = eventLoopGroup
        self.logger = logger
        self.closeSignal = AsyncStream.makeStream()
        self.refreshSignal = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.connectedSignal = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Runs a client for the duration of `body`: connects, waits until it is ready (at most one
    /// ``ReleaseChannelClientConfiguration/connectTimeout`` per endpoint, as long as failover takes to try
    /// them all once), and closes it afterwards.
    public static func withClient<Result: Sendable>(
        configuration: ReleaseChannelClientConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "release_chan.client"),
        _ body: (ReleaseChannelClient) async throws -> Result
    ) async throws -> Result {
        let client = ReleaseChannelClient(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer {
                client.close()
                group.cancelAll()
            }
            try await client.waitUntilReady(timeout: configuration.connectTimeout * max(1, configuration.endpoints.count))
            return try await body(client)
        }
    }

    /// Keeps the connections (and the cache) up until ``close()`` or cancellation.
    public func run() async {
        enum Finished { case closeRequested, other }
        await withTaskGroup(of: Finished.self) { group in
            for slot in 0..<max(1, self.configuration.connections) {
                group.addTask {
                    await self.maintain(slot: slot)
                    return .other
                }
            }
            group.addTask {
                await self.watchLoop()
                return .other
            }
            if self.configuration.cached {
                group.addTask {
                    await self.refreshLoop()
                    return .other
                }
            }
            group.addTask {
                for await _ in self.closeSignal.stream {}
                return .closeRequested
            }
            // A slot that gave up (maximumReconnectAttempts) ends early; the client lives until closed.
            while let finished = await group.next() {
                if finished == .closeRequested { break }
            }
            self.close()
            group.cancelAll()
        }
    }

    /// Closes every connection and ends every revision stream. Calls in progress fail with
    /// ``ReleaseChannelClientError/closed`` or ``ReleaseChannelClientError/connectionClosed``.
    public func close() {
        let (connections, subscribers, stateSubscribers, waiters) = self.shared.withLock { shared in
            shared.closed = true
            shared.state = .failed
            defer {
                shared.connections = [:]
                shared.subscribers = [:]
                shared.stateSubscribers = [:]
                shared.connectionWaiters = [:]
            }
            return (
                Array(shared.connections.values), Array(shared.subscribers.values), Array(shared.stateSubscribers.values),
                Array(shared.connectionWaiters.values)
            )
        }
        for connection in connections { connection.close() }
        for subscriber in subscribers { subscriber.finish() }
        for subscriber in stateSubscribers { subscriber.finish() }
        for waiter in waiters { waiter.finish() }
        self.closeSignal.continuation.finish()
        self.refreshSignal.continuation.finish()
        self.connectedSignal.continuation.finish()
    }

    /// Current connection health.
    public var state: State { self.shared.withLock { $0.state } }

    /// Waits until at least one connection is up.
    public func waitUntilReady(timeout: Duration) async throws {
        _ = try await self.connection(deadline: ContinuousClock.now + timeout)
    }

    // MARK: Lookups

    /// The release of a container on a channel, or nil when there is none. In cached mode this is a
    /// memory read once the snapshot has arrived.
    public func release(container: String, channel: String) async throws -> ChannelRelease? {
        try Self.requireWireString(container, "container")
        try Self.requireWireString(channel, "channel")
        if let cache = self.cache { return cache.release(container: container, channel: channel) }
        var body = ByteBuffer()
        ProtocolMessages.Key(container: container, channel: channel).write(to: &body)
        return try await self.request(.get, body: body) { frame throws(ProtocolError) in
            guard frame.status == .ok else { return nil }
            var reply = frame.body
            let release = try ChannelRelease.read(from: &reply)
            try reply.requireFullyRead("GET reply")
            return release
        }
    }

    /// Every release of a container in promotion order; empty when it has none.
    public func releases(container: String) async throws -> [ChannelRelease] {
        try Self.requireWireString(container, "container")
        if let cache = self.cache { return cache.releases(container: container) }
        var body = ByteBuffer()
        body.writeWireString(container)
        return try await self.request(.getContainer, body: body) { frame throws(ProtocolError) in
            guard frame.status == .ok else { return [] }
            var reply = frame.body
            return try ProtocolMessages.readReleases(from: &reply)
        }
    }

    /// Looks up many (container, channel) pairs in one round trip (at most
    /// ``ProtocolMessages/maximumBatchCount`` per call); results are in request order.
    public func releases(for keys: [ProtocolMessages.Key]) async throws -> [ProtocolMessages.BatchResult] {
        guard (1...ProtocolMessages.maximumBatchCount).contains(keys.count) else {
            throw ReleaseChannelClientError.invalidRequest("a batch holds 1 to \(ProtocolMessages.maximumBatchCount) keys, not \(keys.count)")
        }
        for (index, key) in keys.enumerated() {
            try Self.requireWireString(key.container, "keys[\(index)].container")
            try Self.requireWireString(key.channel, "keys[\(index)].channel")
        }
        if let cache = self.cache {
            return keys.map { key in cache.release(container: key.container, channel: key.channel).map { .found($0) } ?? .notFound }
        }
        var body = ByteBuffer()
        ProtocolMessages.writeBatch(keys, to: &body)
        return try await self.request(.batchGet, body: body) { frame throws(ProtocolError) in
            var reply = frame.body
            let results = try ProtocolMessages.readBatchReply(from: &reply)
            // One item per key, in order (§7.6): any other count would pair results with the wrong keys.
            guard results.count == keys.count else {
                throw ProtocolError(.badFrame, "BATCH_GET reply holds \(results.count) items for \(keys.count) keys")
            }
            return results
        }
    }

    /// A `str` field holds at most 65535 bytes (§2); a longer name would go out cut, as another name.
    /// Checked in cached mode too, so that both modes answer such a name alike (`utf8.count` of a native
    /// string is stored, not counted).
    private static func requireWireString(_ value: String, _ field: String) throws(ReleaseChannelClientError) {
        let bytes = value.utf8.count
        guard bytes <= Int(UInt16.max) else {
            throw .invalidRequest("\(field) is \(bytes) bytes; a protocol string holds at most \(UInt16.max)")
        }
    }

    /// The revision the server is serving now.
    public func revision() async throws -> RevisionChange {
        try await self.request(.revision) { frame throws(ProtocolError) in
            var reply = frame.body
            let info = try ProtocolMessages.RevisionInfo.read(from: &reply)
            return RevisionChange(revision: frame.revision, loadedAtMilliseconds: info.loadedAtMilliseconds, releases: Int(info.releases), containers: Int(info.containers))
        }
    }

    /// The whole db as canonical JSON, and the revision it is; within
    /// ``ReleaseChannelClientConfiguration/snapshotTimeout``.
    public func snapshot() async throws -> (revision: Revision, json: Data) {
        try await self.snapshot(preferring: nil)
    }

    private func snapshot(preferring preferred: ProtocolConnection?) async throws -> (revision: Revision, json: Data) {
        try await self.request(.snapshot, timeout: self.configuration.snapshotTimeout, preferring: preferred) { frame throws(ProtocolError) in
            (frame.revision, Data(frame.body.readableBytesView))
        }
    }

    /// Round-trip time of a PING.
    public func ping() async throws -> Duration {
        let start = ContinuousClock.now
        // The reply echoes the payload, and this one is empty.
        try await self.request(.ping) { frame throws(ProtocolError) in try frame.body.requireFullyRead("PING reply") }
        return ContinuousClock.now - start
    }

    /// The revision of the in-memory cache (cached mode), nil before the first snapshot.
    public var cachedRevision: Revision? { self.cache?.revision }

    /// How current the cache is (cached mode), for a readiness or staleness check: lookups answer from
    /// ``CacheStatus/revision`` whatever the server serves meanwhile.
    public var cacheStatus: CacheStatus {
        self.shared.withLock { shared in
            CacheStatus(
                revision: shared.cache?.revision,
                serverRevision: shared.lastRevision,
                lastError: shared.refreshError,
                failedRefreshes: shared.failedRefreshes
            )
        }
    }

    /// New revisions as the server swaps them in, in order, from now until the client closes.
    public func revisionChanges() -> AsyncStream<RevisionChange> {
        self.subscribe(\.subscribers, AsyncStream.makeStream(of: RevisionChange.self))
    }

    /// The current ``state``, then each change of it, until the client is closed (the last value is then
    /// `.failed`): for a caller that reports losing and regaining its connections as it happens.
    public func stateChanges() -> AsyncStream<State> {
        self.subscribe(\.stateSubscribers, AsyncStream.makeStream(of: State.self, bufferingPolicy: .bufferingNewest(16))) { shared, continuation in
            continuation.yield(shared.state)
        }
    }

    /// Registers `made`'s continuation in `subscribers` until its stream ends, after `first` ran under the
    /// same lock (nothing is missed in between); a closed client's stream ends at once.
    private func subscribe<Element: Sendable>(
        _ subscribers: any WritableKeyPath<Shared, [Int: AsyncStream<Element>.Continuation]> & Sendable,
        _ made: (stream: AsyncStream<Element>, continuation: AsyncStream<Element>.Continuation),
        first: (Shared, AsyncStream<Element>.Continuation) -> Void = { _, _ in }
    ) -> AsyncStream<Element> {
        let id: Int? = self.shared.withLock { shared in
            first(shared, made.continuation)
            guard !shared.closed else { return nil }
            let id = shared.nextSubscriber
            shared.nextSubscriber += 1
            shared[keyPath: subscribers][id] = made.continuation
            return id
        }
        guard let id else {
            made.continuation.finish()
            return made.stream
        }
        made.continuation.onTermination = { [weak self] _ in
            _ = self?.shared.withLock { $0[keyPath: subscribers].removeValue(forKey: id) }
        }
        return made.stream
    }

    // MARK: Requests

    private var cache: CachedDatabase? { self.shared.withLock { $0.cache } }

    /// Sends a request on a pool connection and decodes its reply with `decode`.
    ///
    /// A request whose connection ends before its reply goes once more on another connection within the
    /// same deadline: every version 1 request is free of side effects (docs/protocol.md §13.2), and a server
    /// that shuts down or is killed leaves the requests sent to it unanswered. A COMPRESSED reply is decoded
    /// first, whatever its opcode (§4).
    ///
    /// A reply that does not decode exactly is a protocol violation (docs/protocol.md §11.3): the call
    /// fails with ``ReleaseChannelClientError/protocolViolation(_:)`` and the connection is closed, so its
    /// slot reconnects rather than read further replies from a server it no longer understands.
    private func request<Reply>(
        _ opcode: ProtocolOpcode,
        body: ByteBuffer = ByteBuffer(),
        timeout: Duration? = nil,
        preferring preferred: ProtocolConnection? = nil,
        decode: (Frame) throws(ProtocolError) -> Reply
    ) async throws -> Reply {
        // One budget for the whole call: the waits for a connection and the waits for the reply.
        let deadline = ContinuousClock.now + (timeout ?? self.configuration.requestTimeout)
        var preferred = preferred
        var frame: Frame
        var connection: ProtocolConnection
        var lostConnection: ProtocolConnection?
        while true {
            if let candidate = preferred, candidate.isActive {
                connection = candidate
            } else {
                connection = try await self.connection(deadline: deadline, excluding: lostConnection)
            }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw ReleaseChannelClientError.timeout }
            do {
                if opcode == .snapshot {
                    frame = try await connection.countingSnapshot { try await connection.request(opcode, body: body, timeout: remaining) }
                } else {
                    frame = try await connection.request(opcode, body: body, timeout: remaining)
                }
                break
            } catch let lost as ConnectionLost {
                guard lostConnection == nil, !self.isClosed else { throw lost.reason }
                // Not the same one again: it may still look active for a moment after it failed.
                lostConnection = connection
                preferred = nil
                self.logger.debug(
                    "connection ended before the reply; sending the request again",
                    metadata: ["endpoint": "\(connection.endpoint)", "opcode": "\(opcode.name)", "reason": "\(lost.reason)"]
                )
            }
        }
        if frame.flags.contains(.compressed) {
            let limit = self.configuration.decompressedLimit
            do {
                frame.body = try GzipBody.decode(frame.body, maximumBytes: limit)
                frame.flags.remove(.compressed)
            } catch .tooLarge {
                throw ReleaseChannelClientError.responseTooLarge(
                    "the \(opcode.name) reply decompresses to more than \(limit) bytes (maximumDecompressedBytes)"
                )
            } catch .invalid(let message) {
                self.logger.warning(
                    "protocol violation, closing the connection",
                    metadata: ["endpoint": "\(connection.endpoint)", "opcode": "\(opcode.name)", "error": "\(message)"]
                )
                connection.close()
                throw ReleaseChannelClientError.protocolViolation("\(opcode.name) reply has a COMPRESSED body that does not decode: \(message)")
            }
        }
        do {
            return try decode(frame)
        } catch {
            self.logger.warning(
                "protocol violation, closing the connection",
                metadata: ["endpoint": "\(connection.endpoint)", "opcode": "\(opcode.name)", "error": "\(error.message)"]
            )
            connection.close()
            throw ReleaseChannelClientError.protocolViolation(error.message)
        }
    }

    /// A connection other than `excluded`, round-robin; waits for one (reconnecting) until the deadline.
    private func connection(deadline: ContinuousClock.Instant, excluding excluded: ProtocolConnection? = nil) async throws -> ProtocolConnection {
        // The request path: a connection is up, and nothing is allocated to find it.
        if let connection = self.shared.withLock({ Self.next(in: &$0, excluding: excluded) }) { return connection }
        while true {
            let (signal, waiter) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            // The pool is looked at again under the lock that registers the waiter, so that a connection
            // coming up in between is not missed.
            let (connection, closed, gaveUp, id) = self.shared.withLock { shared -> (ProtocolConnection?, Bool, Bool, Int?) in
                if let connection = Self.next(in: &shared, excluding: excluded) { return (connection, false, false, nil) }
                guard !shared.closed, shared.state != .failed else { return (nil, shared.closed, true, nil) }
                let id = shared.nextConnectionWaiter
                shared.nextConnectionWaiter += 1
                shared.connectionWaiters[id] = waiter
                return (nil, false, false, id)
            }
            if let connection { return connection }
            if closed { throw ReleaseChannelClientError.closed }
            if gaveUp {
                throw ReleaseChannelClientError.notConnected("gave up reconnecting to \(self.describeEndpoints())")
            }
            defer { if let id { _ = self.shared.withLock { $0.connectionWaiters.removeValue(forKey: id) } } }
            let woken = await withTaskGroup(of: Bool.self) { race in
                race.addTask {
                    var iterator = signal.makeAsyncIterator()
                    return await iterator.next() != nil
                }
                race.addTask {
                    try? await Task.sleep(until: deadline)
                    return false
                }
                defer { race.cancelAll() }
                return await race.next() ?? false
            }
            try Task.checkCancellation()
            guard woken || ContinuousClock.now < deadline else {
                throw ReleaseChannelClientError.notConnected("no server reachable at \(self.describeEndpoints())")
            }
        }
    }

    /// "A, B (A: connection refused; B: server error BUSY: …)": the endpoints, with why the last connect
    /// to each failed where one did, and which are still connecting (a wait can end as the connect
    /// timeout does, before the failure is known).
    private func describeEndpoints() -> String {
        let (failures, connecting) = self.shared.withLock { ($0.connectFailures, $0.connecting) }
        let endpoints = self.configuration.endpoints.map(\.description)
        let reasons = endpoints.indices.compactMap { index -> String? in
            let state = [failures[index], connecting[index] != nil ? "no answer yet (TCP connect or HELLO in progress)" : nil].compactMap { $0 }
            return state.isEmpty ? nil : "\(endpoints[index]): \(state.joined(separator: ", "))"
        }
        return endpoints.joined(separator: ", ") + (reasons.isEmpty ? "" : " (\(reasons.joined(separator: "; ")))")
    }

    /// The next active pool connection other than `excluded`, round-robin over the slots in order.
    /// A resend (`excluded` is the connection lost) goes to another server where one is connected: the
    /// lost connection's server may be going down, and its other connections with it, though they still
    /// look active for a moment.
    private static func next(in shared: inout Shared, excluding excluded: ProtocolConnection?) -> ProtocolConnection? {
        let count = shared.pool.count
        var sameServer: ProtocolConnection?
        for _ in 0..<count {
            shared.nextConnection &+= 1
            let candidate = shared.pool[Int(shared.nextConnection % UInt(count))]
            guard candidate.isActive, candidate !== excluded else { continue }
            if let excluded, candidate.endpoint == excluded.endpoint {
                sameServer = sameServer ?? candidate
                continue
            }
            return candidate
        }
        return sameServer
    }

    /// Wakes every call waiting for a connection, to look at the pool again.
    private func wakeConnectionWaiters() {
        let waiters = self.shared.withLock { Array($0.connectionWaiters.values) }
        for waiter in waiters { waiter.yield() }
    }

    // MARK: Connections

    /// Keeps one pool slot connected: connect (failing over across endpoints), serve, reconnect with
    /// jittered exponential backoff.
    ///
    /// A connection that ends sooner than ``ReleaseChannelClientConfiguration/reconnectMaximumDelay`` after
    /// its handshake does not reset the backoff: a server that takes the HELLO and then closes (or one that
    /// fails every WATCH) would otherwise be reconnected to in a tight loop.
    private func maintain(slot: Int) async {
        var failures = 0
        // Connections in a row that ended soon after their handshake.
        var shortLived = 0
        var endpointIndex = slot % max(1, self.configuration.endpoints.count)
        // Pushes come only on the connection the watch loop subscribed on.
        let onPush: @Sendable (Frame) -> Void = { [weak self] frame in self?.handlePush(frame) }
        while !Task.isCancelled, !self.isClosed {
            var connected: ProtocolConnection?
            for offset in 0..<self.configuration.endpoints.count where connected == nil && !Task.isCancelled {
                let index = (endpointIndex + offset) % self.configuration.endpoints.count
                let endpoint = self.configuration.endpoints[index]
                self.shared.withLock { $0.connecting[index, default: 0] += 1 }
                defer {
                    self.shared.withLock { shared in
                        shared.connecting[index, default: 1] -= 1
                        if shared.connecting[index] == 0 { shared.connecting.removeValue(forKey: index) }
                    }
                }
                do {
                    connected = try await ProtocolConnection.connect(
                        to: endpoint,
                        configuration: self.configuration,
                        group: self.group,
                        onPush: onPush
                    )
                    endpointIndex = index
                    _ = self.shared.withLock { $0.connectFailures.removeValue(forKey: index) }
                } catch {
                    self.logger.debug("connect failed", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
                    let reason = ConnectFailure.describe(error)
                    self.shared.withLock { $0.connectFailures[index] = reason }
                }
            }
            guard let connection = connected else {
                failures += 1
                // A slot gives up only while no other connection is up: one that cannot connect while others
                // can (the server's connection cap, say) keeps trying, so the pool stays as large as it can be.
                if let limit = self.configuration.maximumReconnectAttempts, failures >= limit, !self.hasConnections {
                    self.updateState(failedSlot: slot, gaveUp: true)
                    return
                }
                self.updateState(failedSlot: slot, gaveUp: false)
                try? await Task.sleep(for: self.backoff(failures + shortLived))
                continue
            }
            failures = 0
            let connectedAt = ContinuousClock.now
            guard self.register(connection, slot: slot) else {
                connection.close()
                return
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await connection.closed() }
                group.addTask { await self.keepAlive(connection) }
                _ = await group.next()
                group.cancelAll()
            }
            connection.close()
            self.unregister(slot: slot)
            // Start over at the next endpoint: the one that just went away is the least likely to be back.
            endpointIndex = (endpointIndex + 1) % max(1, self.configuration.endpoints.count)
            self.logger.debug("connection lost, reconnecting", metadata: ["slot": "\(slot)", "endpoint": "\(connection.endpoint)"])
            if ContinuousClock.now - connectedAt < self.configuration.reconnectMaximumDelay {
                shortLived += 1
                try? await Task.sleep(for: self.backoff(shortLived))
            } else {
                shortLived = 0
            }
        }
    }

    private var isClosed: Bool { self.shared.withLock { $0.closed } }

    private var hasConnections: Bool { self.shared.withLock { !$0.connections.isEmpty } }

    private func backoff(_ failures: Int) -> Duration {
        let initial = Double(self.configuration.reconnectInitialDelay.components.seconds) + Double(self.configuration.reconnectInitialDelay.components.attoseconds) / 1e18
        let maximum = Double(self.configuration.reconnectMaximumDelay.components.seconds) + Double(self.configuration.reconnectMaximumDelay.components.attoseconds) / 1e18
        let base = min(maximum, initial * pow(2, Double(min(failures - 1, 30))))
        return .milliseconds(Int64(base * Double.random(in: 0.5...1.5) * 1000))
    }

    private func keepAlive(_ connection: ProtocolConnection) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: self.configuration.pingInterval)
                // Behind a SNAPSHOT reply the PING waits for all of it: a slow link is not a dead one.
                let timeout =
                    connection.isSendingSnapshot
                    ? max(self.configuration.requestTimeout, self.configuration.snapshotTimeout) : self.configuration.requestTimeout
                _ = try await connection.request(.ping, timeout: timeout)
            } catch {
                if !Task.isCancelled { connection.close() }
                return
            }
        }
    }

    private func register(_ connection: ProtocolConnection, slot: Int) -> Bool {
        let registered = self.shared.withLock { shared in
            guard !shared.closed else { return false }
            shared.connections[slot] = connection
            shared.state = .ready
            return true
        }
        if registered {
            self.connectedSignal.continuation.yield()
            self.wakeConnectionWaiters()
        }
        return registered
    }

    private func unregister(slot: Int) {
        self.shared.withLock { shared in
            shared.connections.removeValue(forKey: slot)
            if !shared.closed, shared.connections.isEmpty { shared.state = .reconnecting }
        }
    }

    private func updateState(failedSlot: Int, gaveUp: Bool) {
        self.shared.withLock { shared in
            guard !shared.closed, shared.connections.isEmpty else { return }
            shared.state = gaveUp ? .failed : .reconnecting
        }
        // Calls waiting for a connection fail at once once the client gave up.
        if gaveUp { self.wakeConnectionWaiters() }
    }

    // MARK: Revision changes and the cache

    /// Keeps one WATCH subscription on a connection that is up (the lowest slot that is): when that
    /// connection goes away, the next one up subscribes, so revision changes, and cached mode, follow the
    /// server for as long as any connection works.
    private func watchLoop() async {
        var connected = self.connectedSignal.stream.makeAsyncIterator()
        while !Task.isCancelled {
            if let connection = self.shared.withLock({ shared -> ProtocolConnection? in
                shared.watching = shared.pool.first(where: \.isActive)
                return shared.watching
            }) {
                await self.subscribe(connection)
                await connection.closed()
                self.shared.withLock { shared in
                    if shared.watching === connection { shared.watching = nil }
                }
            } else if await connected.next() == nil {
                return
            }
        }
    }

    /// Subscribes on a connection; a revision that changed while no connection watched is reported (and
    /// refreshes the cache) as if it had been pushed.
    private func subscribe(_ connection: ProtocolConnection) async {
        let pushesBefore = self.shared.withLock { $0.pushes }
        do {
            let reply = try await connection.request(.watch, timeout: self.configuration.requestTimeout)
            // A push handled while the WATCH reply was in transit is newer than the reply's revision.
            self.noteRevision(reply.revision, loadedAt: connection.hello.loadedAtMilliseconds, releases: nil, containers: nil, unlessPushedSince: pushesBefore)
            if self.configuration.cached { self.refreshSignal.continuation.yield() }
        } catch {
            connection.close()
        }
    }

    private func handlePush(_ frame: Frame) {
        guard frame.opcode == ProtocolOpcode.revisionChanged.rawValue else { return }
        var body = frame.body
        let info = try? ProtocolMessages.RevisionInfo.read(from: &body)
        self.shared.withLock { $0.pushes += 1 }
        self.noteRevision(frame.revision, loadedAt: info?.loadedAtMilliseconds ?? 0, releases: info.map { Int($0.releases) }, containers: info.map { Int($0.containers) })
    }

    /// Notes a revision the server serves. With `pushes`, only if no push was handled since that count: the
    /// check and the note under one lock, so that a push handled in between is never overwritten by the
    /// older revision of a WATCH reply.
    private func noteRevision(_ revision: Revision, loadedAt: UInt64, releases: Int?, containers: Int?, unlessPushedSince pushes: Int? = nil) {
        let change = RevisionChange(revision: revision, loadedAtMilliseconds: loadedAt, releases: releases, containers: containers)
        let cached = self.configuration.cached
        let subscribers = self.shared.withLock { shared -> [AsyncStream<RevisionChange>.Continuation]? in
            if let pushes, shared.pushes != pushes { return nil }
            let previous = shared.lastRevision
            shared.lastRevision = revision
            // The first revision seen is the starting point, not a change; a push is one, unless the WATCH
            // reply already named its revision (a swap as the client subscribed, docs/protocol.md §7.9).
            guard previous != revision, releases != nil || previous != nil else { return [] }
            if cached {
                shared.unannounced.append(change)
                return []
            }
            return Array(shared.subscribers.values)
        }
        guard let subscribers else { return }
        for subscriber in subscribers { subscriber.yield(change) }
        if cached { self.refreshSignal.continuation.yield() }
    }

    /// Fetches a SNAPSHOT whenever the revision may have changed; concurrent triggers collapse into one.
    /// Changes are announced to ``revisionChanges()`` once the cache holds them, so a subscriber that
    /// looks a release up on a change sees the new value.
    private func refreshLoop() async {
        var behind = 0
        // The revision whose db was over maximumDecompressedBytes: not fetched again.
        var tooLarge: Revision?
        for await _ in self.refreshSignal.stream {
            let (wanted, watching) = self.shared.withLock { ($0.lastRevision, $0.watching) }
            if wanted != nil, wanted == tooLarge { continue }
            if wanted == nil || self.cache?.revision != wanted {
                do {
                    // From the server whose pushes set `wanted`: another endpoint may not have reloaded yet.
                    let (revision, json) = try await self.snapshot(preferring: watching)
                    let database: CachedDatabase
                    do {
                        database = try CachedDatabase(revision: revision, json: json)
                    } catch {
                        throw ReleaseChannelClientError.protocolViolation("SNAPSHOT \(revision) is not a db: \(error)")
                    }
                    self.shared.withLock { shared in
                        shared.cache = database
                        shared.refreshError = nil
                        shared.failedRefreshes = 0
                    }
                    self.logger.debug("cache refreshed", metadata: ["revision": "\(revision)"])
                } catch {
                    let reason = error as? ReleaseChannelClientError ?? .connectionClosed
                    let failures = self.shared.withLock { shared in
                        shared.refreshError = reason
                        shared.failedRefreshes += 1
                        return shared.failedRefreshes
                    }
                    // A db too large for this client stays too large until it changes: the next revision
                    // (pushed, or found on reconnecting) tries again, not a timer.
                    if case .responseTooLarge = reason {
                        tooLarge = wanted
                        self.logger.error("cache refresh failed; waiting for the next revision", metadata: ["error": "\(reason)"])
                        continue
                    }
                    self.logger.warning("cache refresh failed; retrying", metadata: ["error": "\(error)", "attempt": "\(failures)"])
                    if !self.isClosed {
                        try? await Task.sleep(for: self.backoff(failures))
                        self.refreshSignal.continuation.yield()
                    }
                    continue
                }
            }
            // Changes are announced once the cache holds the last one: a snapshot asked for just before a swap
            // arrives with the revision before it (and one from another endpoint may be older still).
            let announced = self.shared.withLock { shared -> ([RevisionChange], [AsyncStream<RevisionChange>.Continuation])? in
                guard shared.lastRevision == nil || shared.cache?.revision == shared.lastRevision else { return nil }
                defer { shared.unannounced = [] }
                return (shared.unannounced, Array(shared.subscribers.values))
            }
            guard case let (changes, subscribers)? = announced else {
                // Fetched again at once the first time (the server has the newer one), then with backoff.
                behind += 1
                if !self.isClosed {
                    if behind > 1 { try? await Task.sleep(for: self.backoff(behind - 1)) }
                    self.refreshSignal.continuation.yield()
                }
                continue
            }
            behind = 0
            for change in changes {
                for subscriber in subscribers { subscriber.yield(change) }
            }
        }
    }
}
