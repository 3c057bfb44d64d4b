import NIOCore
import ReleaseChannelStore

/// Answers `GET /v1/releases/{container}/{channel}` straight from the connection's bytes, in front of
/// NIO's HTTP/1 decoder, and passes every other request on to the decoder whole.
///
/// The lookup is the service's hottest HTTP request. Through the decoder it cost a parsed
/// `HTTPRequestHead` (strings for the URI and each header), an `HTTPHeaders` for the answer and a trip
/// through the encoder and the pipelining handler, each step wrapping the parts in `NIOAny`; here it
/// is a scan of the head's bytes (``HTTPRequestHeadScanner``), a table lookup by those bytes, and one
/// buffer holding the header block and the body.
///
/// The decoder and the encoder never see a request answered here, so they stay paired with each other
/// (the encoder frames a response by the method the decoder recorded for it). Responses stay in
/// request order: a request is answered here only while every request passed on before it has been
/// answered (``FastPathOrdering``), and passed on otherwise. A request the scanner does not read
/// completely (a body, bare LF line endings, a head over 8 KiB) sends the connection's bytes to the
/// decoder from there on. Lookups the router words differently (unknown names, percent-encoding, a
/// query, `If-None-Match`, HTTP/1.0, `Connection: close`) are passed on too.
final class RawReleaseLookupHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let store: SnapshotStore
    private let ordering: FastPathOrdering
    private let accounting: FastPathAccounting
    private let serverName: String
    /// The start of a request head whose end has not arrived yet.
    private var buffered: ByteBuffer?
    /// Set once the connection sent something outside the scanner's subset: from then on every byte
    /// goes to the decoder.
    private var passingThrough = false
    private var needsFlush = false
    private var dates = HTTPDateCache()
    /// The status line and the headers up to `Content-Length: ` for ``headPrefixRevision``.
    private var headPrefix: [UInt8] = []
    private var headPrefixRevision: String?

    init(store: SnapshotStore, ordering: FastPathOrdering, accounting: FastPathAccounting, serverName: String) {
        self.store = store
        self.ordering = ordering
        self.accounting = accounting
        self.serverName = serverName
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.passingThrough else {
            context.fireChannelRead(data)
            return
        }
        var input = self.unwrapInboundIn(data)
        if var buffered = self.buffered {
            self.buffered = nil
            buffered.writeBuffer(&input)
            input = buffered
        }
        self.process(&input, context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.needsFlush {
            self.needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The decoder sees the same bytes it would have seen without this handler, an incomplete head too.
        self.passBufferedOn(context: context)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // End of input, quiescing and the like are the decoder's and the router's to act on.
        self.passBufferedOn(context: context)
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Requests

    /// Answers or passes on every complete request head in `input`, in order, and keeps an incomplete
    /// one for the next read.
    private func process(_ input: inout ByteBuffer, context: ChannelHandlerContext) {
        let snapshot = self.store.current
        var output: ByteBuffer?
        // The requests to pass on are contiguous: once one is, every later one waits for it.
        var passOnStart: Int?
        var passedOn = 0
        scanning: while input.readableBytes > 0 {
            switch input.withUnsafeReadableBytes({ HTTPRequestHeadScanner.scan($0) }) {
            case .incomplete:
                break scanning
            case .unsupported:
                self.passingThrough = true
                if passOnStart == nil { passOnStart = input.readerIndex }
                input.moveReaderIndex(to: input.writerIndex)
            case .request(let request):
                var answered = false
                if passOnStart == nil, self.ordering.outstanding == 0, let lookup = request.lookup, let snapshot {
                    answered = self.answer(lookup, in: input, snapshot: snapshot, to: &output, context: context)
                }
                if !answered {
                    if passOnStart == nil { passOnStart = input.readerIndex }
                    passedOn += 1
                }
                input.moveReaderIndex(forwardBy: request.length)
            }
        }
        if let output {
            context.write(self.wrapOutboundOut(output), promise: nil)
            self.needsFlush = true
        }
        if let start = passOnStart {
            let end = input.readerIndex
            input.moveReaderIndex(to: start)
            if let bytes = input.readSlice(length: end - start) {
                // Counted before the decoder runs: it may answer them at once, counting them down.
                self.ordering.passedOn(requests: passedOn)
                context.fireChannelRead(self.wrapInboundOut(bytes))
            }
        }
        if input.readableBytes > 0 {
            self.buffered = input.slice()
        }
    }

    private func passBufferedOn(context: ChannelHandlerContext) {
        guard let buffered = self.buffered else { return }
        self.buffered = nil
        self.passingThrough = true
        context.fireChannelRead(self.wrapInboundOut(buffered))
    }

    /// Appends the answer to `output` when the release exists; false leaves the request to the router
    /// (which words the error).
    private func answer(
        _ lookup: HTTPRequestHeadScanner.Lookup,
        in input: ByteBuffer,
        snapshot: Snapshot,
        to output: inout ByteBuffer?,
        context: ChannelHandlerContext
    ) -> Bool {
        let start = NIODeadline.now()
        let length: Int? = input.withUnsafeReadableBytes { bytes in
            let container = UnsafeRawBufferPointer(rebasing: bytes[lookup.container])
            let channel = UnsafeRawBufferPointer(rebasing: bytes[lookup.channel])
            return snapshot.withReleaseBody(container: container, channel: channel) { body in
                var buffer = output ?? context.channel.allocator.buffer(capacity: 512 + body.count)
                self.writeHead(bodyLength: body.count, revision: snapshot.revision, to: &buffer)
                buffer.writeBytes(body)
                output = buffer
                return body.count
            }
        }
        guard let length else { return false }
        self.accounting.record(
            route: ReleaseFastPathHandler.releaseRoute,
            path: input.withUnsafeReadableBytes { bytes in
                "/v1/releases/\(String(decoding: bytes[lookup.container], as: UTF8.self))/\(String(decoding: bytes[lookup.channel], as: UTF8.self))"
            },
            bytes: length,
            since: start
        )
        return true
    }

    /// The header block `ReleaseFastPathHandler` and the router write for a release, in the same order.
    private func writeHead(bodyLength: Int, revision: String, to buffer: inout ByteBuffer) {
        if self.headPrefixRevision != revision {
            self.headPrefixRevision = revision
            self.headPrefix = Array(
                ("HTTP/1.1 200 OK\r\nContent-Type: \(JSONBody.contentType)\r\nETag: \"\(revision)\"\r\n"
                    + "X-Release-Revision: \(revision)\r\nVary: Accept-Encoding\r\nCache-Control: no-cache\r\nContent-Length: ").utf8
            )
        }
        buffer.writeBytes(self.headPrefix)
        buffer.writeString(String(bodyLength))
        buffer.writeStaticString("\r\nDate: ")
        buffer.writeString(self.dates.now())
        buffer.writeStaticString("\r\nServer: ")
        buffer.writeString(self.serverName)
        buffer.writeStaticString("\r\n\r\n")
    }
}

@available(*, unavailable)
extension RawReleaseLookupHandler: Sendable {}
