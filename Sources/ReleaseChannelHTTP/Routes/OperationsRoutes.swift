import Foundation
public import Hummingbird
import NIOCore
public import Prometheus
import ReleaseChannelModel
public import ReleaseChannelStore

/// Operational endpoints: `/v1/health`, `/v1/ready`, `POST /v1/reload`, `/metrics`.
public struct OperationsRoutes: Sendable {
    let coordinator: ReloadCoordinator
    let readiness: ReadinessState
    let reloadAuthorization: ReloadAuthorization
    let registry: PrometheusCollectorRegistry

    public init(
        coordinator: ReloadCoordinator,
        readiness: ReadinessState,
        reloadAuthorization: ReloadAuthorization,
        registry: PrometheusCollectorRegistry
    ) {
        self.coordinator = coordinator
        self.readiness = readiness
        self.reloadAuthorization = reloadAuthorization
        self.registry = registry
    }

    var store: SnapshotStore { self.coordinator.store }

    /// The routes' paths and methods, for the 405 of any other method (``MethodNotAllowedMiddleware``).
    public static let allowedMethods: [AllowedMethods] = [
        AllowedMethods("/v1/health", [.get, .head]),
        AllowedMethods("/v1/ready", [.get, .head]),
        AllowedMethods("/metrics", [.get, .head]),
        AllowedMethods("/v1/reload", [.post]),
    ]

    public func register(on router: Router<ReleaseRequestContext>) {
        router.get("/v1/health") { _, _ in self.health() }
        router.get("/v1/ready") { _, _ in try self.ready() }
        router.post("/v1/reload") { request, context in try await self.reload(request, context: context) }
        router.get("/metrics") { _, _ in self.metrics() }
    }

    func health() -> Response {
        let snapshot = self.store.current
        let status = self.coordinator.status
        let degraded = status.lastReport?.result == .failed
        var writer = JSONWriter()
        writer.raw("{\"status\":")
        writer.string(degraded ? "degraded" : "ok")
        writer.raw(",\"revision\":")
        if let snapshot { writer.string(snapshot.revision) } else { writer.raw("null") }
        writer.raw(",\"releases\":")
        writer.integer(Int64(snapshot?.releaseCount ?? 0))
        writer.raw(",\"containers\":")
        writer.integer(Int64(snapshot?.containerCount ?? 0))
        writer.raw(",\"loaded_at\":")
        if let snapshot { writer.string(Timestamps.rfc3339(snapshot.loadedAt)) } else { writer.raw("null") }
        writer.raw(",\"last_reload\":")
        if let report = status.lastReport {
            writer.raw("{\"at\":")
            writer.string(Timestamps.rfc3339(report.at))
            writer.raw(",\"trigger\":")
            writer.string(report.trigger.rawValue)
            writer.raw(",\"result\":")
            writer.string(report.result.rawValue)
            writer.raw(",\"revision\":")
            if let revision = report.revision { writer.string(revision) } else { writer.raw("null") }
            writer.raw(",\"error\":")
            if let error = report.error { writer.string(error.summary) } else { writer.raw("null") }
            writer.raw(",\"errors\":")
            IssueEncoder.append(report.error?.issues ?? [], to: &writer)
            writer.raw("}")
        } else {
            writer.raw("null")
        }
        writer.raw(",\"reloads\":{\"succeeded\":")
        writer.integer(Int64(status.succeeded))
        writer.raw(",\"failed\":")
        writer.integer(Int64(status.failed))
        writer.raw("}}")
        return JSONBody.response(writer)
    }

    func ready() throws(APIError) -> Response {
        if self.readiness.isDraining {
            throw APIError.shuttingDown()
        }
        guard let snapshot = self.store.current else { throw APIError.notReady() }
        var writer = JSONWriter()
        writer.raw("{\"ready\":true,\"revision\":")
        writer.string(snapshot.revision)
        writer.raw("}")
        return JSONBody.response(writer)
    }

    func reload(_ request: Request, context: ReleaseRequestContext) async throws -> Response {
        try self.reloadAuthorization.authorize(request, remoteAddress: context.remoteAddress)
        // Draining: the load balancer is taking this instance out, and the reload would race the
        // shutdown (docs/http-api.md §4.7).
        if self.readiness.isDraining {
            throw APIError.shuttingDown()
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: APIError.maximumRequestBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(
                .contentTooLarge,
                code: "payload_too_large",
                message: "a reload request takes no body (at most \(APIError.maximumRequestBodyBytes) bytes are accepted)"
            )
        } catch {
            throw Self.incompleteBody()
        }
        // The body's stream also ends when the connection does (the request-head timeout's 408, the
        // client gone): a body shorter than announced is a request that never arrived, not a reload.
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), body.readableBytes < declared {
            throw Self.incompleteBody()
        }
        guard let report = await self.coordinator.reload(trigger: .api) else {
            throw APIError.shuttingDown()
        }
        if let error = report.error {
            throw APIError(
                .unprocessableContent,
                code: error.code,
                message: "reload rejected, revision \(report.revision ?? "none") keeps serving: \(error.summary)",
                details: error.issues,
                revision: report.revision
            )
        }
        var writer = JSONWriter()
        writer.raw("{\"revision\":")
        writer.string(report.revision ?? "")
        writer.raw(",\"changed\":")
        writer.raw(report.result == .changed ? "true" : "false")
        writer.raw("}")
        return JSONBody.response(writer)
    }

    /// A body cut off by the end of its connection; the answer is never read, so it only has to be
    /// something other than a reload.
    static func incompleteBody() -> APIError {
        APIError(.badRequest, code: "bad_request", message: "the request body ended before it was complete")
    }

    /// Registry metrics plus the snapshot gauges, computed at scrape time so they are never stale.
    func metrics() -> Response {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16 * 1024)
        self.registry.emit(into: &bytes)
        var text = ""
        if let snapshot = self.store.current {
            let now = Date().timeIntervalSince1970
            text += "# TYPE release_chan_revision_info gauge\n"
            text += "release_chan_revision_info{revision=\"\(snapshot.revision)\"} 1\n"
            text += "# TYPE release_chan_releases gauge\nrelease_chan_releases \(snapshot.releaseCount)\n"
            text += "# TYPE release_chan_containers gauge\nrelease_chan_containers \(snapshot.containerCount)\n"
            text += "# TYPE release_chan_snapshot_loaded_timestamp_seconds gauge\n"
            text += "release_chan_snapshot_loaded_timestamp_seconds \(snapshot.loadedAt)\n"
            text += "# TYPE release_chan_snapshot_age_seconds gauge\n"
            text += "release_chan_snapshot_age_seconds \(max(0, now - snapshot.loadedAt))\n"
        }
        bytes.append(contentsOf: text.utf8)
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
