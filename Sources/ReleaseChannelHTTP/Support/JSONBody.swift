import HTTPTypes
import Hummingbird
import NIOCore
import ReleaseChannelModel
import ReleaseChannelStore

/// Builds JSON responses, including the cached snapshot bodies with their validators and encodings.
public enum JSONBody {
    static let contentType = "application/json; charset=utf-8"
    static let revisionHeader = HTTPField.Name("X-Release-Revision")!

    /// A JSON response built per request (health, reload results); never cached.
    static func response(_ writer: JSONWriter, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = Self.contentType
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }

    /// A snapshot-derived body: `ETag` from the revision, `If-None-Match` → 304, the precompressed gzip
    /// bytes when the client accepts them. Nothing is encoded or compressed here.
    static func snapshotResponse(_ body: EncodedBody, revision: String, request: Request) -> Response {
        if let gzip = body.gzip, ContentNegotiation.acceptsGzip(request.headers[.acceptEncoding]) {
            return Self.snapshotResponse(body: .init(byteBuffer: gzip), gzipped: true, revision: revision, request: request)
        }
        return Self.snapshotResponse(body: .init(byteBuffer: body.identity), gzipped: false, revision: revision, request: request)
    }

    /// `GET /v1/releases`: as ``snapshotResponse(_:revision:request:)``; for a client without gzip once
    /// only the gzip form is held, the file's bytes are inflated while they are sent.
    static func wholeDatabaseResponse(_ body: WholeDatabaseBody, revision: String, request: Request) -> Response {
        let acceptsGzip = ContentNegotiation.acceptsGzip(request.headers[.acceptEncoding])
        switch body.form {
        case .gzip(let file) where acceptsGzip:
            // The fast path sends this with sendfile; here (conditional requests, HEAD) it is copied out
            // in pieces.
            let gzip = ResponseBody(contentLength: file.count) { writer in
                var offset = 0
                while offset < file.count {
                    let end = min(offset + WholeDatabaseBody.inflateChunkSize, file.count)
                    try await writer.write(file.buffer(offset..<end))
                    offset = end
                }
                try await writer.finish(nil)
            }
            return Self.snapshotResponse(body: gzip, gzipped: true, revision: revision, request: request)
        case .identity(let bytes):
            return Self.snapshotResponse(body: .init(byteBuffer: bytes), gzipped: false, revision: revision, request: request)
        case .gzip:
            let identity = ResponseBody(contentLength: body.identityLength) { writer in
                try await body.writeIdentity { try await writer.write($0) }
                try await writer.finish(nil)
            }
            return Self.snapshotResponse(body: identity, gzipped: false, revision: revision, request: request)
        }
    }

    /// - Parameter gzipped: Whether `body` is the gzip form (`Content-Encoding`, and an ETag of its own).
    private static func snapshotResponse(body: ResponseBody, gzipped: Bool, revision: String, request: Request) -> Response {
        var headers = HTTPFields()
        headers.reserveCapacity(7)
        headers[.contentType] = Self.contentType
        headers[.eTag] = gzipped ? "\"\(revision)-gzip\"" : "\"\(revision)\""
        headers[Self.revisionHeader] = revision
        headers[.vary] = "Accept-Encoding"
        headers[.cacheControl] = "no-cache"
        if let ifNoneMatch = request.headers[.ifNoneMatch], ContentNegotiation.matches(ifNoneMatch, revision: revision) {
            return Response(status: .notModified, headers: headers, body: .init())
        }
        if gzipped { headers[.contentEncoding] = "gzip" }
        return Response(status: .ok, headers: headers, body: body)
    }
}
