public import Hummingbird
import NIOCore
import ReleaseChannelModel
public import ReleaseChannelStore

/// The read API: `/v1/releases…` and `/v1/channels`, answered from the current snapshot.
///
/// Each handler reads the snapshot once, so every byte of a response comes from one revision.
public struct ReleaseRoutes: Sendable {
    let store: SnapshotStore

    public init(store: SnapshotStore) {
        self.store = store
    }

    /// The routes' paths and methods, for the 405 of any other method (``MethodNotAllowedMiddleware``).
    public static let allowedMethods: [AllowedMethods] = [
        AllowedMethods("/v1/releases", [.get, .head]),
        AllowedMethods("/v1/releases/{container}", [.get, .head]),
        AllowedMethods("/v1/releases/{container}/{channel}", [.get, .head]),
        AllowedMethods("/v1/channels", [.get, .head]),
    ]

    /// Adds the routes. A path with an empty segment is refused before they run by
    /// ``ExactPathMiddleware``, which ``HTTPRouterBuilder`` adds in front of them.
    public func register(on router: Router<ReleaseRequestContext>) {
        router.get("/v1/releases") { request, _ in try self.releases(request) }
        router.get("/v1/releases/{container}") { request, context in
            let snapshot = try self.snapshot()
            let container = try context.parameters.require("container")
            return try self.containerResponse(snapshot, container: container, channel: nil, request: request)
        }
        router.get("/v1/releases/{container}/{channel}") { request, context in
            let snapshot = try self.snapshot()
            let container = try context.parameters.require("container")
            let channel = try context.parameters.require("channel")
            let entry = try self.lookup(snapshot, container: container, channel: channel)
            return JSONBody.snapshotResponse(EncodedBody(identity: entry.body, gzip: nil), revision: snapshot.revision, request: request)
        }
        router.get("/v1/channels") { request, _ in
            let snapshot = try self.snapshot()
            return JSONBody.snapshotResponse(snapshot.channelsBody, revision: snapshot.revision, request: request)
        }
    }

    private static func entry(_ snapshot: Snapshot, _ container: String) throws(APIError) -> ContainerEntry {
        guard let entry = snapshot.container(container) else {
            throw APIError.notFound("no releases for container \"\(container)\"")
        }
        return entry
    }

    private static func checkName(_ container: String) throws(APIError) {
        do {
            try FieldRules.checkContainer(container)
        } catch {
            throw APIError.badParameter(error.message)
        }
    }

    func snapshot() throws(APIError) -> Snapshot {
        guard let snapshot = self.store.current else { throw APIError.notReady() }
        return snapshot
    }

    /// `GET /v1/releases[?container=NAME[&channel=CH]]`
    func releases(_ request: Request) throws -> Response {
        let snapshot = try self.snapshot()
        var container: Substring?
        var channel: Substring?
        for (key, value) in request.uri.queryParameters {
            switch key {
            case "container":
                guard container == nil else { throw APIError.badParameter("query parameter \"container\" is given more than once") }
                container = value
            case "channel":
                guard channel == nil else { throw APIError.badParameter("query parameter \"channel\" is given more than once") }
                channel = value
            default:
                throw APIError.badParameter("unknown query parameter \"\(key.prefix(64))\" (allowed: container, channel)")
            }
        }
        guard let container else {
            if channel != nil { throw APIError.badParameter("query parameter \"channel\" needs \"container\"") }
            return JSONBody.wholeDatabaseResponse(snapshot.wholeDatabase, revision: snapshot.revision, request: request)
        }
        return try self.containerResponse(snapshot, container: String(container), channel: channel.map(String.init), request: request)
    }

    /// The container document, optionally narrowed to one channel.
    func containerResponse(_ snapshot: Snapshot, container: String, channel: String?, request: Request) throws -> Response {
        guard let channel else {
            let entry = try self.lookup(snapshot, container: container)
            return JSONBody.snapshotResponse(entry.body, revision: snapshot.revision, request: request)
        }
        let release = try self.lookup(snapshot, container: container, channel: channel)
        // The one-channel form is rare; it is assembled from the release's object.
        let body = release.body
        var writer = JSONWriter(reservingCapacity: body.readableBytes + 96)
        writer.raw("{\"revision\":")
        writer.string(snapshot.revision)
        writer.raw(",\"container\":")
        writer.string(container)
        writer.raw(",\"releases\":[")
        writer.raw(contentsOf: body.readableBytesView)
        writer.raw("]}")
        return JSONBody.snapshotResponse(
            EncodedBody(identity: ByteBuffer(bytes: writer.bytes), gzip: nil),
            revision: snapshot.revision,
            request: request
        )
    }

    func lookup(_ snapshot: Snapshot, container: String) throws(APIError) -> ContainerEntry {
        try Self.checkName(container)
        return try Self.entry(snapshot, container)
    }

    /// A bad request is told apart from a missing release first, as the binary protocol does (§7.4):
    /// an unknown channel is 400 whether or not the container is known.
    func lookup(_ snapshot: Snapshot, container: String, channel: String) throws(APIError) -> ReleaseEntry {
        try Self.checkName(container)
        guard let index = snapshot.channelIndex(channel) else {
            throw APIError.badParameter(
                "unknown channel \(String(reflecting: String(channel.prefix(64)))) (channels: \(snapshot.channels.joined(separator: ", ")))"
            )
        }
        let entry = try Self.entry(snapshot, container)
        guard let release = entry.release(channel: index) else {
            throw APIError.notFound("container \"\(container)\" has no release on channel \"\(channel)\"")
        }
        return release
    }
}
