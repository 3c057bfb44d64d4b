import NIOCore
import ReleaseChannelModel

/// The last response of a connection the server ends on its own (a late request head, one connection
/// too many): an error with the API's JSON body (docs/http-api.md §6) and `Connection: close`, written
/// from in front of NIO's HTTP encoder, which never sees it, and followed by the close.
struct ClosingErrorResponse {
    /// Status line's code and reason, e.g. `408 Request Timeout`.
    let status: String
    let code: String
    let message: String
    /// Header lines after the standard ones, each ending in CRLF.
    var extraHeaders = ""

    /// Writes the response and closes the channel once it is written, or after a grace period: written
    /// at once unless the socket is full (a client that also stopped reading), and then the grace
    /// period bounds the wait, as for a protocol connection's last replies.
    func send(context: ChannelHandlerContext, serverName: String) {
        let response = self.bytes(serverName: serverName, allocator: context.channel.allocator)
        let channel = context.channel
        let closeAnyway = context.eventLoop.scheduleTask(in: Self.closeGracePeriod) { channel.close(promise: nil) }
        context.writeAndFlush(NIOAny(response)).whenComplete { _ in
            closeAnyway.cancel()
            channel.close(promise: nil)
        }
    }

    static let closeGracePeriod: TimeAmount = .seconds(5)

    func bytes(serverName: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var body = JSONWriter()
        body.raw("{\"error\":{\"code\":")
        body.string(self.code)
        body.raw(",\"message\":")
        body.string(self.message)
        body.raw("}}")
        var dates = HTTPDateCache()
        var buffer = allocator.buffer(capacity: 256 + self.extraHeaders.utf8.count + body.bytes.count)
        buffer.writeStaticString("HTTP/1.1 ")
        buffer.writeString(self.status)
        buffer.writeStaticString("\r\nContent-Type: ")
        buffer.writeString(JSONBody.contentType)
        buffer.writeStaticString("\r\nCache-Control: no-store\r\nConnection: close\r\n")
        buffer.writeString(self.extraHeaders)
        buffer.writeStaticString("Content-Length: ")
        buffer.writeString(String(body.bytes.count))
        buffer.writeStaticString("\r\nDate: ")
        buffer.writeString(dates.now())
        buffer.writeStaticString("\r\nServer: ")
        buffer.writeString(serverName)
        buffer.writeStaticString("\r\n\r\n")
        buffer.writeBytes(body.bytes)
        return buffer
    }
}
