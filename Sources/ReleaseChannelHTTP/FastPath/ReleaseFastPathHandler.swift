import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ReleaseChannelStore

/// Answers the two hot lookups, `GET /v1/releases/{container}/{channel}` and `GET /v1/releases`, on the
/// event loop, in front of Hummingbird; every other request passes through to the router untouched.
///
/// Both answers are precomputed snapshot bodies, so the work per request is a dictionary lookup and a
/// header block; the whole db's gzip form is sent from its file with `sendfile(2)`. Going
/// through Hummingbird's async request handling (a task per connection, the router, the middleware
/// chain) cost about three times that in the profile. The fast path answers
/// only what it can answer exactly like the routes do (same headers, same bytes, same metrics and
/// access log); anything else — another method or path, a query, percent-encoding, `If-None-Match`,
/// a request body, a connection that is closing, an unknown container or channel (whose error the
/// router words) — is forwarded.
///
/// Responses stay in request order: while a forwarded request has not been answered, later requests on
/// the connection are forwarded too (HTTP/1.1 pipelining).
final class ReleaseFastPathHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    static let releaseRoute = "/v1/releases/{container}/{channel}"
    static let databaseRoute = "/v1/releases"

    private let store: SnapshotStore
    private let ordering: FastPathOrdering
    private let accounting: FastPathAccounting
    private let serverName: String
    /// Requests passed on to the router whose response has not ended yet.
    private var forwarded = 0
    /// Whether the rest of the current request (body, end) belongs to a request answered here.
    private var discarding = false
    private var needsFlush = false
    private var dates = HTTPDateCache()

    /// - Parameters:
    ///   - ordering: Shared with the connection's ``RawReleaseLookupHandler``; every response that ends
    ///     here counts one of the requests it passed on as answered.
    ///   - accessLogger: Where to write one line per request, or nil when the access log is off.
    init(store: SnapshotStore, ordering: FastPathOrdering = FastPathOrdering(), metrics: HTTPRequestMetrics, accessLogger: Logger?, serverName: String) {
        self.store = store
        self.ordering = ordering
        self.accounting = FastPathAccounting(metrics: metrics, accessLogger: accessLogger)
        self.serverName = serverName
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            let start = NIODeadline.now()
            if self.forwarded == 0, Self.isPlainGet(head), let snapshot = self.store.current, let answer = Self.answer(head, snapshot: snapshot) {
                self.discarding = true
                self.write(answer, for: head, snapshot: snapshot, context: context, start: start)
            } else {
                self.discarding = false
                self.forwarded += 1
                context.fireChannelRead(data)
            }
        case .body:
            if !self.discarding { context.fireChannelRead(data) }
        case .end:
            if self.discarding {
                self.discarding = false
            } else {
                context.fireChannelRead(data)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.needsFlush {
            self.needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = self.unwrapOutboundIn(data) {
            self.forwarded = max(0, self.forwarded - 1)
            self.ordering.answered()
        }
        context.write(data, promise: promise)
    }

    // MARK: Answering

    private struct Answer {
        var route: String
        var body: Body
        var gzip: Bool

        enum Body {
            case buffer(ByteBuffer)
            /// Sent with `sendfile(2)` (a `FileRegion`): no copy through user space.
            case file(ScratchFile)

            var count: Int {
                switch self {
                case .buffer(let buffer): buffer.readableBytes
                case .file(let file): file.count
                }
            }
        }
    }

    /// A GET the fast path may answer: keep-alive, no body, no conditional.
    private static func isPlainGet(_ head: HTTPRequestHead) -> Bool {
        let headers = head.headers
        // `contains(name:)` compares case-insensitively without building strings (this runs per request).
        return head.method == .GET && head.isKeepAlive
            && !headers.contains(name: "if-none-match") && !headers.contains(name: "transfer-encoding")
            && !headers.contains(name: "expect")
            && (!headers.contains(name: "content-length") || headers["content-length"].allSatisfy { $0 == "0" })
    }

    private static func answer(_ head: HTTPRequestHead, snapshot: Snapshot) -> Answer? {
        let uri = head.uri.utf8
        let prefix = "/v1/releases".utf8
        guard uri.starts(with: prefix) else { return nil }
        let rest = uri.dropFirst(prefix.count)
        if rest.isEmpty {
            let acceptsGzip = ContentNegotiation.acceptsGzip(Self.joined(head.headers["accept-encoding"]))
            switch snapshot.wholeDatabase.form {
            case .gzip(let file) where acceptsGzip: return Answer(route: Self.databaseRoute, body: .file(file), gzip: true)
            case .identity(let bytes): return Answer(route: Self.databaseRoute, body: .buffer(bytes), gzip: false)
            // Inflating for a client without gzip is the router's (it streams it in chunks).
            case .gzip: return nil
            }
        }
        // "/{container}/{channel}" with plain names only; anything the router would decode goes there.
        guard rest.first == UInt8(ascii: "/") else { return nil }
        let names = rest.dropFirst()
        guard let slash = names.firstIndex(of: UInt8(ascii: "/")) else { return nil }
        let container = names[..<slash]
        let channel = names[names.index(after: slash)...]
        guard !container.isEmpty, !channel.isEmpty,
            !container.contains(where: Self.needsRouter), !channel.contains(where: Self.needsRouter),
            let release = snapshot.release(container: String(decoding: container, as: UTF8.self), channel: String(decoding: channel, as: UTF8.self))
        else { return nil }
        return Answer(route: Self.releaseRoute, body: .buffer(release.body), gzip: false)
    }

    /// Bytes after which the router's parsing (query, fragment, percent-decoding, more segments) matters.
    private static func needsRouter(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "%") || byte == UInt8(ascii: "#")
    }

    private static func joined(_ values: [String]) -> String? {
        values.isEmpty ? nil : values.joined(separator: ",")
    }

    /// The headers `JSONBody.snapshotResponse` and Hummingbird write, in the same order.
    private func write(_ answer: Answer, for request: HTTPRequestHead, snapshot: Snapshot, context: ChannelHandlerContext, start: NIODeadline) {
        var headers = HTTPHeaders()
        headers.reserveCapacity(9)
        headers.add(name: "Content-Type", value: JSONBody.contentType)
        headers.add(name: "ETag", value: answer.gzip ? "\"\(snapshot.revision)-gzip\"" : "\"\(snapshot.revision)\"")
        headers.add(name: "X-Release-Revision", value: snapshot.revision)
        headers.add(name: "Vary", value: "Accept-Encoding")
        headers.add(name: "Cache-Control", value: "no-cache")
        if answer.gzip { headers.add(name: "Content-Encoding", value: "gzip") }
        headers.add(name: "Content-Length", value: String(answer.body.count))
        headers.add(name: "Date", value: self.dates.now())
        headers.add(name: "Server", value: self.serverName)
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: .ok, headers: headers))), promise: nil)
        switch answer.body {
        case .buffer(let buffer):
            context.write(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        case .file(let file):
            // A descriptor of its own for this response: the write may outlive the snapshot's file.
            if let handle = try? file.makeFileHandle() {
                let written = context.eventLoop.makePromise(of: Void.self)
                written.futureResult.whenComplete { _ in try? handle.close() }
                let region = FileRegion(fileHandle: handle, readerIndex: 0, endIndex: file.count)
                context.write(self.wrapOutboundOut(.body(.fileRegion(region))), promise: written)
            } else {
                // Out of descriptors: the same bytes, copied.
                context.write(self.wrapOutboundOut(.body(.byteBuffer(file.buffer()))), promise: nil)
            }
        }
        context.write(self.wrapOutboundOut(.end(nil)), promise: nil)
        self.needsFlush = true
        self.ordering.answered()
        self.accounting.record(route: answer.route, path: request.uri, bytes: answer.body.count, since: start)
    }
}

@available(*, unavailable)
extension ReleaseFastPathHandler: Sendable {}
