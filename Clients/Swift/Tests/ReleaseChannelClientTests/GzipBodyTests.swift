import CompressNIO
import NIOCore
@testable import ReleaseChannelClient
import Testing

/// COMPRESSED bodies (docs/protocol.md §4) are accepted only whole: one gzip member to its CRC and size
/// trailer, nothing after it, within the size limit.
@Suite struct GzipBodyTests {
    static let text = ByteBuffer(string: String(repeating: #"{"container":"app","channel":"prod","image":"ghcr.io/acme/app:v1"},"#, count: 400))

    static func gzip(_ buffer: ByteBuffer) throws -> [UInt8] {
        var input = buffer
        return Array(try input.compress(with: .gzip()).readableBytesView)
    }

    @Test func aWholeMemberDecodesToItsText() throws {
        let member = try Self.gzip(Self.text)
        #expect(try GzipBody.decode(ByteBuffer(bytes: member), maximumBytes: Self.text.readableBytes) == Self.text)
    }

    /// Every cut, from the empty body to a member short of its last trailer byte, is refused: the body read
    /// as far as the cut would be a shorter db.
    @Test func everyCutOfAMemberIsRefused() throws {
        let member = try Self.gzip(Self.text)
        for length in 0..<member.count {
            #expect(throws: (any Error).self, "a member cut to \(length) of \(member.count) bytes was accepted") {
                _ = try GzipBody.decode(ByteBuffer(bytes: member.prefix(length)), maximumBytes: .max)
            }
        }
    }

    @Test func bytesAfterTheMemberAreRefused() throws {
        let member = try Self.gzip(Self.text)
        #expect(throws: GzipBody.Failure.invalid("3 bytes follow the end of the gzip stream")) {
            _ = try GzipBody.decode(ByteBuffer(bytes: member + [1, 2, 3]), maximumBytes: .max)
        }
    }

    @Test func aBodyOverTheLimitIsTooLarge() throws {
        let member = try Self.gzip(Self.text)
        let limit = Self.text.readableBytes - 1
        #expect(throws: GzipBody.Failure.tooLarge(limit: limit)) {
            _ = try GzipBody.decode(ByteBuffer(bytes: member), maximumBytes: limit)
        }
    }
}
