import NIOCore
import ReleaseChannelStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Answers the two hot requests, `GET /v1/releases/{container}/{channel}` and `GET /v1/releases`,
/// straight from the connection's bytes, in front of NIO's HTTP/1 decoder, and passes every other
/// request on to the decoder (and from there to the router) whole.
///
/// Through the decoder a lookup cost a parsed `HTTPRequestHead` (strings for the URI and each header),
/// an `HTTPHeaders` for the answer and a trip through the encoder and the pipelining handler, each step
/// wrapping the parts in `NIOAny`; here it is a scan of the head's bytes (``HTTPRequestHeadScanner``),
/// a table lookup by those bytes, and one buffer per read batch holding the header blocks and bodies.
/// The whole db's gzip form is sent from its file with `sendfile(2)`, its head held back by `TCP_CORK`
/// to leave with the file's first bytes. The answers are the router's,
/// byte for byte (same headers in the same order; a test compares them), and count into the same
/// metrics and access log.
///
/// The decoder and the encoder never see a request answered here, so they stay paired with each other
/// (the encoder frames a response by the method the decoder recorded for it). Responses stay in
/// request order: a request is answered here only while every request passed on before it has been
/// answered (``FastPathOrdering``), and passed on otherwise. A request the scanner does not read
/// completely (a body, bare LF line endings, a head over 8 KiB) sends the connection's bytes to the
/// decoder from there on. Requests the router answers differently (unknown names, percent-encoding, a
/// query, `If-None-Match`, HTTP/1.0, `Connection: close`, the whole db for a client without gzip once
/// only its gzip form is held) are passed on too.
final class RawReleaseLookupHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

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
    /// The writability the handlers behind this one were last told of (see
    /// ``channelWritabilityChanged(context:)``).
    private var toldWritable = true
    /// File writes under way while `TCP_CORK` is set (see ``holdPartialSegments(context:)``).
    private var corkedWrites = 0
    /// A read asked for while this handler's answers filled the channel (see ``read(context:)``).
    private var readHeld = false
    private var dates = HTTPDateCache()
    /// The buffer of the last read batch's answers, for the next batch's: written and flushed by then
    /// (unless the socket was full), it is only referenced here, so its memory is reused rather than a
    /// buffer allocated per request. Kept up to ``spareCapacity``, a few answers' worth.
    private var spare: ByteBuffer?
    private static let spareCapacity = 4096

    init(store: SnapshotStore, ordering: FastPathOrdering, accounting: FastPathAccounting, serverName: String) {
        self.store = store
        self.ordering = ordering
        self.accounting = accounting
        self.serverName = serverName
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = self.unwrapInboundIn(data)
        guard !self.passingThrough else {
            self.passToDecoder(input, context: context)
            return
        }
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

    /// Keeps the channel turning unwritable from the handlers behind this one while every request so
    /// far was answered here, and tells them the writability at hand when a request is passed on.
    ///
    /// A whole-db response's file region (more than the write buffer's high-water mark) flips the
    /// writability twice per response; Hummingbird's async channel handling those changes, with nothing
    /// of its own to write, cost 5% of the server's CPU on that load. A change back to writable always
    /// goes through, so the handlers behind are never left believing the channel is full.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, !self.passingThrough {
            // Requests left unanswered while the channel was full (see process), then the read held back.
            if var input = self.buffered {
                self.buffered = nil
                self.process(&input, context: context)
                if self.needsFlush {
                    self.needsFlush = false
                    context.flush()
                }
                // Requests passed on here reach the router as after a read: Hummingbird's channel hands
                // what it read on at the read's completion.
                if !self.ownsConnection { context.fireChannelReadComplete() }
            }
            if self.readHeld, context.channel.isWritable {
                self.readHeld = false
                context.read()
            }
        }
        if !context.channel.isWritable, self.ownsConnection { return }
        self.tellWritability(context: context)
    }

    /// Holds reading while the answers written here fill the channel and requests already wait unanswered
    /// (``process(_:context:)`` stopped at one): a client that sends requests without reading the
    /// answers then blocks in TCP instead of growing the server's write queue (and its open file
    /// descriptors, one per whole-db answer) without limit. A client that waits for each answer is read
    /// on: holding its reads would cost two `epoll_ctl` per whole-db answer for nothing. While requests
    /// are passed on, the decoder and Hummingbird's channel do their own holding.
    func read(context: ChannelHandlerContext) {
        if self.ownsConnection, self.buffered != nil, !context.channel.isWritable {
            self.readHeld = true
        } else {
            context.read()
        }
    }

    /// True while nothing behind this handler has a response to write: no request passed on is
    /// unanswered (``FastPathOrdering`` counts one answered once its end is written).
    private var ownsConnection: Bool {
        !self.passingThrough && self.ordering.outstanding == 0
    }

    private func tellWritability(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        guard writable != self.toldWritable else { return }
        self.toldWritable = writable
        context.fireChannelWritabilityChanged()
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
        var endsInsideHead = false
        scanning: while input.readableBytes > 0 {
            switch input.withUnsafeReadableBytes({ HTTPRequestHeadScanner.scan($0) }) {
            case .incomplete:
                endsInsideHead = true
                break scanning
            case .unsupported:
                self.passingThrough = true
                if passOnStart == nil { passOnStart = input.readerIndex }
                input.moveReaderIndex(to: input.writerIndex)
            case .request(let request):
                self.ordering.scannedHead()
                // A full channel (a whole-db answer's file passes the high-water mark) stops answering
                // here: this request and the rest wait in `buffered` until it drains
                // (channelWritabilityChanged). Requests for the router go on; it holds its own writes.
                if passOnStart == nil, self.ordering.outstanding == 0, request.target != nil, !context.channel.isWritable {
                    break scanning
                }
                var answered = false
                if passOnStart == nil, self.ordering.outstanding == 0, let target = request.target, let snapshot {
                    answered = self.answer(target, in: input, snapshot: snapshot, to: &output, context: context)
                }
                if !answered {
                    if passOnStart == nil { passOnStart = input.readerIndex }
                    passedOn += 1
                    // The connection ends with this request's response: the decoder and the router see
                    // everything after it, and answer none of it (RFC 9112 §9.6).
                    if request.closesConnection { self.passingThrough = true }
                }
                input.moveReaderIndex(forwardBy: request.length)
            }
        }
        if let output {
            context.write(self.wrapOutboundOut(.byteBuffer(output)), promise: nil)
            self.needsFlush = true
            if output.capacity <= Self.spareCapacity { self.spare = output }
        }
        if let start = passOnStart {
            let end = input.readerIndex
            input.moveReaderIndex(to: start)
            if let bytes = input.readSlice(length: end - start) {
                // Counted before the decoder runs: it may answer them at once, counting them down.
                self.ordering.passedOn(requests: passedOn)
                self.tellWritability(context: context)
                self.passToDecoder(bytes, context: context)
            }
        }
        if input.readableBytes > 0 {
            self.buffered = input.slice()
        }
        // Once passing through, the decoder's parts have told (passToDecoder). Requests kept while the
        // channel is full are complete: waiting on the client's reading is the idle timeout's to judge.
        if !self.passingThrough { self.ordering.readEndsInsideHead = endsInsideHead }
    }

    private func passBufferedOn(context: ChannelHandlerContext) {
        guard let buffered = self.buffered else { return }
        self.buffered = nil
        self.passingThrough = true
        self.tellWritability(context: context)
        self.passToDecoder(buffered, context: context)
    }

    /// Hands bytes to the decoder and notes whether they end inside a request head: the decoder read
    /// neither a head's end nor a request's end from them, and is not inside a request's body. Bytes that
    /// complete one request and start the next are taken as complete; the next read of the head's bytes,
    /// if they come in pieces, starts its clock.
    private func passToDecoder(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        let boundaries = self.ordering.boundaries
        context.fireChannelRead(self.wrapInboundOut(bytes))
        self.ordering.readEndsInsideHead = !self.ordering.decoderInsideRequest && self.ordering.boundaries == boundaries
    }

    /// Appends the answer to `output` (or writes it, with the whole db's file) and returns true, or
    /// returns false to leave the request to the router: an unknown release (whose error the router
    /// words), or the whole db for a client without gzip once only the gzip form is held (the router
    /// inflates it as it sends it).
    private func answer(
        _ target: HTTPRequestHeadScanner.Target,
        in input: ByteBuffer,
        snapshot: Snapshot,
        to output: inout ByteBuffer?,
        context: ChannelHandlerContext
    ) -> Bool {
        let start = NIODeadline.now()
        switch target {
        case .release(let container, let channel):
            var length = 0
            let found = input.withUnsafeReadableBytes { bytes in
                snapshot.withRelease(
                    container: UnsafeRawBufferPointer(rebasing: bytes[container]),
                    channel: UnsafeRawBufferPointer(rebasing: bytes[channel])
                ) { release in
                    length = release.jsonLength
                    var buffer = output.take() ?? self.emptyBuffer(capacity: 512 + length, context: context)
                    self.writeHead(bodyLength: length, revision: snapshot.revision, gzip: false, to: &buffer)
                    release.writeJSON(to: &buffer)
                    output = buffer
                }
            }
            guard found else { return false }
            self.accounting.record(
                route: .release,
                path: input.withUnsafeReadableBytes { bytes in
                    "/v1/releases/\(String(decoding: bytes[container], as: UTF8.self))/\(String(decoding: bytes[channel], as: UTF8.self))"
                },
                bytes: length,
                since: start
            )
            return true

        case .wholeDatabase(let acceptEncoding):
            let acceptsGzip = acceptEncoding.map { range in
                input.withUnsafeReadableBytes { ContentNegotiation.acceptsGzip(UnsafeRawBufferPointer(rebasing: $0[range])) }
            } ?? false
            var buffer = output ?? self.emptyBuffer(capacity: 512, context: context)
            let length: Int
            switch snapshot.wholeDatabase.form {
            case .identity(let bytes):
                // Before the reload has compressed it: megabytes, written as they are rather than copied.
                length = bytes.readableBytes
                self.writeHead(bodyLength: length, revision: snapshot.revision, gzip: false, to: &buffer)
                context.write(self.wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
                context.write(self.wrapOutboundOut(.byteBuffer(bytes)), promise: nil)
                output = nil
            case .gzip(let file) where acceptsGzip:
                length = file.count
                self.writeHead(bodyLength: length, revision: snapshot.revision, gzip: true, to: &buffer)
                // Corked, the head (and every answer before it) waits in the socket to leave with the
                // file's first bytes instead of as a small packet of its own, as nginx's `tcp_nopush`
                // does; the cork comes off once the file is written (benchmarks/README.md).
                self.holdPartialSegments(context: context)
                context.write(self.wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
                output = nil
                self.writeFile(file, context: context)
            case .gzip:
                return false
            }
            self.needsFlush = true
            self.accounting.record(route: .wholeDatabase, path: "/v1/releases", bytes: length, since: start)
            return true
        }
    }

    /// The spare buffer, cleared, or a new one: `clear` allocates anew for a buffer NIO still holds.
    private func emptyBuffer(capacity: Int, context: ChannelHandlerContext) -> ByteBuffer {
        guard var spare = self.spare.take() else { return context.channel.allocator.buffer(capacity: capacity) }
        spare.clear(minimumCapacity: capacity)
        return spare
    }

    /// Sends the whole file with `sendfile(2)`, on a descriptor of its own that is closed once written
    /// (the write may outlive the snapshot, and with it the file), then lets partial segments go.
    private func writeFile(_ file: ScratchFile, context: ChannelHandlerContext) {
        let handle = try? file.makeFileHandle()
        let written = context.eventLoop.makePromise(of: Void.self)
        let channel = context.channel
        written.futureResult.assumeIsolated().whenComplete { _ in
            try? handle?.close()
            self.releasePartialSegments(channel: channel)
        }
        // Out of descriptors: the same bytes, copied.
        let body = handle.map { IOData.fileRegion(FileRegion(fileHandle: $0, readerIndex: 0, endIndex: file.count)) } ?? .byteBuffer(file.buffer(0..<file.count))
        context.write(self.wrapOutboundOut(body), promise: written)
    }

    /// Sets `TCP_CORK` unless a file write before this one already did: the socket then sends only full
    /// segments until ``releasePartialSegments(channel:)`` has been called once per call of this.
    private func holdPartialSegments(context: ChannelHandlerContext) {
        self.corkedWrites += 1
        if self.corkedWrites == 1 { Self.setCork(true, on: context.channel) }
    }

    private func releasePartialSegments(channel: any Channel) {
        self.corkedWrites -= 1
        if self.corkedWrites == 0 { Self.setCork(false, on: channel) }
    }

    private static func setCork(_ on: Bool, on channel: any Channel) {
        #if os(Linux)
        // Fails only once the connection is closed, when there is nothing left to send.
        try? channel.syncOptions?.setOption(Self.tcpCork, value: on ? 1 : 0)
        #endif
    }

    #if os(Linux)
    static let tcpCork = ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: CInt(TCP_CORK)))
    #endif

    /// The header block the router writes for a snapshot's body, in the same order.
    private func writeHead(bodyLength: Int, revision: String, gzip: Bool, to buffer: inout ByteBuffer) {
        buffer.writeStaticString("HTTP/1.1 200 OK\r\nContent-Type: ")
        buffer.writeString(JSONBody.contentType)
        buffer.writeStaticString("\r\nETag: \"")
        buffer.writeString(revision)
        buffer.writeStaticString(gzip ? "-gzip\"\r\nX-Release-Revision: " : "\"\r\nX-Release-Revision: ")
        buffer.writeString(revision)
        buffer.writeStaticString("\r\nVary: Accept-Encoding\r\nCache-Control: no-cache\r\n")
        if gzip { buffer.writeStaticString("Content-Encoding: gzip\r\n") }
        buffer.writeStaticString("Content-Length: ")
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
