import HTTPTypes
import NIOCore
import ReleaseChannelTransportSupport

/// The last response of a connection the server ends on its own (a late request head, one connection
/// too many): an ``APIError`` with its JSON body (docs/http-api.md §6) and `Connection: close`, written
/// from in front of NIO's HTTP encoder, which never sees it, and followed by the close.
struct ClosingErrorResponse {
    let error: APIError

    /// Writes the response and closes the channel once it is written, or after a grace period (a client
    /// that also stopped reading), as for a protocol connection's last replies. `lingering`: closes the
    /// write side first and the channel when the client closes its side, or after ``lingerPeriod``, so
    /// that a client still sending (the rest of a slow head, pipelined requests) does not lose the
    /// responses to an RST; the handlers that send it drop what the client sends after it. Not for a
    /// connection over the cap, which must give its descriptor back at once.
    func send(context: ChannelHandlerContext, serverName: String, lingering: Bool = false) {
        let bytes = self.bytes(serverName: serverName, allocator: context.channel.allocator)
        if lingering {
            context.writeAndFlushThenLingeringClose(bytes, gracePeriod: Self.closeGracePeriod, linger: Self.lingerPeriod)
        } else {
            context.writeAndFlushThenClose(bytes, gracePeriod: Self.closeGracePeriod)
        }
    }

    static let closeGracePeriod: TimeAmount = .seconds(5)
    /// How long a client still sending after the response (the rest of a slow head, pipelined requests)
    /// has to read it before the close; nginx's lingering_timeout is 5 s.
    static let lingerPeriod: TimeAmount = .seconds(5)

    func bytes(serverName: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        let body = self.error.body()
        var dates = HTTPDateCache()
        var buffer = allocator.buffer(capacity: 256 + body.count)
        buffer.writeStaticString("HTTP/1.1 ")
        buffer.writeString(String(self.error.status.code))
        buffer.writeStaticString(" ")
        buffer.writeString(self.error.status.reasonPhrase)
        buffer.writeStaticString("\r\nContent-Type: ")
        buffer.writeString(JSONBody.contentType)
        buffer.writeStaticString("\r\nCache-Control: no-store\r\nConnection: close\r\n")
        for field in self.error.headers {
            buffer.writeString(field.name.rawName)
            buffer.writeStaticString(": ")
            buffer.writeString(field.value)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("Content-Length: ")
        buffer.writeString(String(body.count))
        buffer.writeStaticString("\r\nDate: ")
        buffer.writeString(dates.now())
        buffer.writeStaticString("\r\nServer: ")
        buffer.writeString(serverName)
        buffer.writeStaticString("\r\n\r\n")
        buffer.writeBytes(body)
        return buffer
    }
}
