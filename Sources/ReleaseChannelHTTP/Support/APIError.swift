public import HTTPTypes
public import Hummingbird
import NIOCore
public import ReleaseChannelModel

/// An error answered as `{"error":{"code":…,"message":…[,"details":[…]]}}` with its HTTP status.
public struct APIError: Error, HTTPResponseError, Sendable {
    /// Largest request body accepted (only `POST /v1/reload` takes one, and ignores it).
    public static let maximumRequestBodyBytes = 1024

    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var details: [ValidationIssue]
    public var headers: HTTPFields
    /// Extra top-level members written after `error` (e.g. the revision still served).
    public var revision: String?

    public init(
        _ status: HTTPResponse.Status,
        code: String,
        message: String,
        details: [ValidationIssue] = [],
        headers: HTTPFields = [:],
        revision: String? = nil
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers
        self.revision = revision
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = JSONBody.contentType
        headers[.cacheControl] = "no-store"
        return Response(status: self.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: self.body())))
    }

    /// The JSON body, for the router's responses and for those a connection ends with
    /// (``ClosingErrorResponse``).
    func body() -> [UInt8] {
        var writer = JSONWriter()
        writer.raw("{\"error\":{\"code\":")
        writer.string(self.code)
        writer.raw(",\"message\":")
        writer.string(self.message)
        if !self.details.isEmpty {
            writer.raw(",\"details\":")
            IssueEncoder.append(self.details, to: &writer)
        }
        writer.raw("}")
        if let revision = self.revision {
            writer.raw(",\"revision\":")
            writer.string(revision)
        }
        writer.raw("}")
        return writer.bytes
    }

    // MARK: Common errors

    static func badParameter(_ message: String) -> APIError {
        APIError(.badRequest, code: "bad_parameter", message: message)
    }

    static func notFound(_ message: String) -> APIError {
        APIError(.notFound, code: "not_found", message: message)
    }

    static func notReady() -> APIError {
        APIError(.serviceUnavailable, code: "not_ready", message: "no db snapshot is being served yet")
    }

    /// The process is draining or shutting down: readiness is off, and a reload is not carried out.
    static func shuttingDown() -> APIError {
        APIError(.serviceUnavailable, code: "not_ready", message: "the server is shutting down")
    }

    /// A request head or body (`part`) that took longer than `timeout` (as the flag is written, e.g.
    /// `20s`) to arrive.
    static func requestTimeout(_ timeout: String, part: String = "head") -> APIError {
        APIError(.requestTimeout, code: "request_timeout", message: "the request \(part) was not complete within \(timeout)")
    }

    /// A connection over the cap; the client may try again in a second.
    static func tooManyConnections(limit: Int) -> APIError {
        APIError(.serviceUnavailable, code: "too_many_connections", message: "too many connections (limit \(limit))", headers: [.retryAfter: "1"])
    }

    static func methodNotAllowed(_ method: HTTPRequest.Method, allowed: String) -> APIError {
        var headers = HTTPFields()
        headers[.allow] = allowed
        return APIError(
            .methodNotAllowed,
            code: "method_not_allowed",
            message: "\(method.rawValue) is not allowed here; allowed: \(allowed)",
            headers: headers
        )
    }
}

/// Writes validation issues as `[{"path":…,"line":…,"column":…,"message":…}]`.
enum IssueEncoder {
    static func append(_ issues: [ValidationIssue], to writer: inout JSONWriter) {
        writer.raw("[")
        for (index, issue) in issues.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{\"path\":")
            writer.string(issue.path)
            if let position = issue.position {
                writer.raw(",\"line\":")
                writer.integer(Int64(position.line))
                writer.raw(",\"column\":")
                writer.integer(Int64(position.column))
            }
            writer.raw(",\"message\":")
            writer.string(issue.message)
            writer.raw("}")
        }
        writer.raw("]")
    }
}
