import NIOCore
import Testing

@testable import ReleaseChannelProtocol

/// The protocol server's frame cutter: what it keeps between reads.
@Suite struct FrameReassemblerTests {
    /// Reads that keep ending inside a frame (a client streaming frames in odd-sized writes) leave the
    /// reassembler holding about one frame, not everything the connection ever sent: it had grown by
    /// every read, about 100 MB per 100 MB of traffic, and a buffer past 4 GiB traps in NIO.
    @Test func readsEndingInsideFramesKeepAboutOneFrame() throws {
        var reassembler = FrameReassembler(maximumFrameBytes: 65536)
        var frame = ByteBuffer()
        frame.writeFrame(opcode: ProtocolOpcode.ping.rawValue, flags: [], requestID: 1, revision: .none) { $0.writeString("payload") }
        let bytes = Array(frame.readableBytesView)
        var stream: [UInt8] = []
        for _ in 0..<10_000 { stream += bytes }
        var offset = 0
        var frames = 0
        var largest = 0
        // The first read is a frame and one byte, every later one a frame's length: each read completes a
        // frame and ends one byte into the next, so the buffer is never empty between reads.
        while offset < stream.count {
            let end = min(offset + (offset == 0 ? bytes.count + 1 : bytes.count), stream.count)
            reassembler.append(ByteBuffer(bytes: stream[offset..<end]))
            offset = end
            while let next = try reassembler.next() {
                #expect(next.requestID == 1)
                frames += 1
            }
            largest = max(largest, reassembler.storedBytes)
        }
        #expect(frames == 10_000)
        #expect(largest <= 4 * bytes.count, "held \(largest) bytes for frames of \(bytes.count)")
    }
}
