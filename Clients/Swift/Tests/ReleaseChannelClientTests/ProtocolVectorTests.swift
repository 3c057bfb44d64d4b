import CompressNIO
import Foundation
import NIOCore
import ReleaseChannelClient
import Testing

/// The SDK's codec against the shared conformance vectors (Tests/Fixtures/protocol-vectors.json): every
/// frame decodes to the documented fields and encodes back to the same bytes.
@Suite struct ProtocolVectorTests {
    struct Vector: Decodable, CustomStringConvertible {
        struct Header: Decodable {
            let version: UInt8
            let opcode: UInt8
            let flags: UInt8
            let status: UInt8
            let request_id: UInt32
            let revision: String
            let body: Body
        }

        struct Body: Decodable {
            let versions: [UInt8]?
            let client_name: String?
            let version: UInt8?
            let max_frame: UInt32?
            let server_id: String?
            let loaded_at_ms: UInt64?
            let payload_hex: String?
            let container: String?
            let channel: String?
            let release: Release?
            let releases: ReleasesField?
            let containers: UInt32?
            let pairs: [Pair]?
            let results: [Result]?
            let message: String?
            let json: String?
        }

        /// `releases` is a list in GET_CONTAINER replies and a count in REVISION bodies.
        enum ReleasesField: Decodable {
            case list([Release])
            case count(UInt32)

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let count = try? container.decode(UInt32.self) {
                    self = .count(count)
                } else {
                    self = .list(try container.decode([Release].self))
                }
            }
        }

        struct Release: Decodable {
            let container: String
            let channel: String
            let image: String
            let digest: String
            let updated_at: String

            var value: ChannelRelease {
                ChannelRelease(container: self.container, channel: self.channel, image: self.image, digest: self.digest.isEmpty ? nil : self.digest, updatedAt: self.updated_at)
            }
        }

        struct Pair: Decodable {
            let container: String
            let channel: String
        }

        struct Result: Decodable {
            let status: UInt8
            let release: Release?
        }

        let name: String
        let direction: String
        let hex: String
        let frame: Header
        let compressed: Bool?

        var description: String { self.name }
        var bytes: [UInt8] { Self.bytes(hex: self.hex) }

        static func bytes(hex: String) -> [UInt8] {
            var bytes: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2)
                bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
                index = next
            }
            return bytes
        }
    }

    static let vectors: [Vector] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Tests/Fixtures/protocol-vectors.json")
        guard let data = try? Data(contentsOf: url), let vectors = try? JSONDecoder().decode([Vector].self, from: data) else { return [] }
        return vectors
    }()

    @Test func theFixtureIsThere() {
        #expect(Self.vectors.count >= 30)
    }

    @Test(arguments: Self.vectors)
    func headerDecodesAndReencodes(vector: Vector) throws {
        let frame = try #require(Frame.parse(ByteBuffer(bytes: vector.bytes)), "\(vector.name) is not one frame")
        #expect(frame.version == vector.frame.version)
        #expect(frame.opcode == vector.frame.opcode)
        #expect(frame.flags.rawValue == vector.frame.flags)
        #expect(frame.status.rawValue == vector.frame.status)
        #expect(frame.requestID == vector.frame.request_id)
        #expect(frame.revision.hex == vector.frame.revision)
        var encoded = ByteBuffer()
        frame.write(to: &encoded)
        #expect(Array(encoded.readableBytesView) == vector.bytes)
    }

    @Test(arguments: Self.vectors)
    func bodyDecodesToTheDocumentedFieldsAndReencodes(vector: Vector) throws {
        let frame = try #require(Frame.parse(ByteBuffer(bytes: vector.bytes)))
        var body = frame.body
        var encoded = ByteBuffer()
        let expected = vector.frame.body
        let isRequest = vector.direction == "client-to-server"
        if frame.status != .ok {
            let message = ProtocolMessages.readMessage(from: &body)
            #expect(message == expected.message)
            ProtocolMessages.writeMessage(message, to: &encoded)
        } else {
            switch (ProtocolOpcode(rawValue: frame.opcode), isRequest) {
            case (.hello, true):
                let hello = try ProtocolMessages.Hello.read(from: &body)
                #expect(hello.versions == expected.versions)
                #expect(hello.clientName == expected.client_name)
                hello.write(to: &encoded)
            case (.hello, false):
                let reply = try ProtocolMessages.HelloReply.read(from: &body)
                #expect(reply.version == expected.version)
                #expect(reply.maximumFrameBytes == expected.max_frame)
                #expect(reply.serverID == expected.server_id)
                #expect(reply.loadedAtMilliseconds == expected.loaded_at_ms)
                reply.write(to: &encoded)
            case (.ping, _):
                #expect(body.readableBytesView.map { String(format: "%02x", $0) }.joined() == expected.payload_hex)
                encoded.writeImmutableBuffer(body)
            case (.get, true):
                let key = try ProtocolMessages.Key.read(from: &body)
                #expect(key == ProtocolMessages.Key(container: expected.container ?? "", channel: expected.channel ?? ""))
                key.write(to: &encoded)
            case (.get, false):
                let release = try ChannelRelease.read(from: &body)
                #expect(release == expected.release?.value)
                release.write(to: &encoded)
            case (.getContainer, true):
                let container = try body.readWireString("container")
                #expect(container == expected.container)
                encoded.writeWireString(container)
            case (.getContainer, false):
                let releases = try ProtocolMessages.readReleases(from: &body)
                guard case .list(let list) = expected.releases else {
                    Issue.record("vector has no release list")
                    return
                }
                #expect(releases == list.map(\.value))
                encoded.writeInteger(UInt16(releases.count))
                for release in releases { release.write(to: &encoded) }
            case (.batchGet, true):
                let keys = try ProtocolMessages.readBatch(from: &body)
                #expect(keys == (expected.pairs ?? []).map { ProtocolMessages.Key(container: $0.container, channel: $0.channel) })
                ProtocolMessages.writeBatch(keys, to: &encoded)
            case (.batchGet, false):
                let results = try ProtocolMessages.readBatchReply(from: &body)
                let documented: [ProtocolMessages.BatchResult] = (expected.results ?? []).map { result in
                    switch result.status {
                    case 0: result.release.map { .found($0.value) } ?? .notFound
                    case 1: .notFound
                    case 6: .badRequest
                    default: .other(ProtocolStatus(rawValue: result.status))
                    }
                }
                #expect(results == documented)
                encoded.writeInteger(UInt16(results.count))
                for result in results {
                    switch result {
                    case .found(let release):
                        encoded.writeInteger(UInt8(0))
                        release.write(to: &encoded)
                    case .notFound: encoded.writeInteger(UInt8(1))
                    case .badRequest: encoded.writeInteger(UInt8(6))
                    case .other(let status): encoded.writeInteger(status.rawValue)
                    }
                }
            case (.revision, false), (.revisionChanged, false):
                let info = try ProtocolMessages.RevisionInfo.read(from: &body)
                #expect(info.loadedAtMilliseconds == expected.loaded_at_ms)
                if case .count(let releases) = expected.releases { #expect(info.releases == releases) }
                #expect(info.containers == expected.containers)
                info.write(to: &encoded)
            case (.snapshot, false):
                #expect(frame.flags.contains(.compressed))
                let json = String(decoding: try body.decompress(with: .gzip(), maxSize: 1 << 20).readableBytesView, as: UTF8.self)
                #expect(json == expected.json)
                return  // gzip bytes differ between zlib builds; decompression is the contract
            default:
                // Empty bodies (REVISION/SNAPSHOT/WATCH/UNWATCH requests, WATCH/UNWATCH replies, unknown opcodes).
                #expect(body.readableBytes == 0)
            }
        }
        #expect(Array(encoded.readableBytesView) == Array(frame.body.readableBytesView), "\(vector.name) body re-encodes identically")
    }
}
