import NIOCore
import ReleaseChannelModel
import ReleaseChannelProtocol
import ReleaseChannelStore

/// Answers the stateless requests (PING, GET, GET_CONTAINER, BATCH_GET, REVISION, SNAPSHOT) from one
/// snapshot, writing the reply frame straight into the outbound buffer.
struct ProtocolResponder {
    /// Writes the reply to `frame` and returns its status.
    static func respond(to frame: Frame, opcode: ProtocolOpcode, snapshot: Snapshot, into buffer: inout ByteBuffer) -> ProtocolStatus {
        let revision = Revision(value: snapshot.revisionNumber)
        var body = frame.body
        do throws(ProtocolError) {
            switch opcode {
            case .ping:
                return Self.pong(to: frame, revision: revision, into: &buffer)
            case .get:
                // The common case first: the body is a stored key, answered from the raw bytes. Anything
                // else (unknown, malformed, invalid) takes the checked path below for its exact error.
                var found = false
                _ = body.withUnsafeReadableBytes { key in
                    snapshot.withRelease(forKey: key) { release in
                        guard release.hasRecord else { return }
                        Self.writeReply(opcode: frame.opcode, requestID: frame.requestID, revision: revision, release: release, into: &buffer)
                        found = true
                    }
                }
                if found { return .ok }
                let key = try Self.decode("GET") { () throws(ProtocolError) in
                    let key = try ProtocolMessages.Key.read(from: &body)
                    try body.requireFullyRead("GET")
                    return key
                }
                let entry = try Self.lookup(key, in: snapshot)
                try Self.requireRecord(entry, key.container, key.channel)
                buffer.writeFrame(opcode: frame.opcode, flags: .reply, requestID: frame.requestID, revision: revision) {
                    _ = entry.writeRecord(to: &$0)
                }
            case .getContainer:
                let container = try Self.decode("GET_CONTAINER") { () throws(ProtocolError) in
                    let container = try body.readWireString("container")
                    try body.requireFullyRead("GET_CONTAINER")
                    return container
                }
                try Self.checkName(container)
                guard let entry = snapshot.container(container) else {
                    throw ProtocolError(.notFound, "no releases for container \"\(container)\"")
                }
                let all = entry.releases
                let releases = all.compactMap { $0 }
                for (channel, release) in zip(snapshot.channels, all) where release != nil {
                    try Self.requireRecord(release, container, channel)
                }
                buffer.writeFrame(opcode: frame.opcode, flags: .reply, requestID: frame.requestID, revision: revision) { buffer in
                    buffer.writeInteger(UInt16(releases.count))
                    for release in releases { _ = release.writeRecord(to: &buffer) }
                }
            case .batchGet:
                let keys = try Self.decode("BATCH_GET") { () throws(ProtocolError) in try ProtocolMessages.readBatch(from: &body) }
                buffer.writeFrame(opcode: frame.opcode, flags: .reply, requestID: frame.requestID, revision: revision) { buffer in
                    buffer.writeInteger(UInt16(keys.count))
                    for key in keys {
                        do throws(ProtocolError) {
                            let entry = try Self.lookup(key, in: snapshot)
                            try Self.requireRecord(entry, key.container, key.channel)
                            buffer.writeInteger(ProtocolStatus.ok.rawValue)
                            _ = entry.writeRecord(to: &buffer)
                        } catch {
                            buffer.writeInteger(error.status.rawValue)
                        }
                    }
                }
            case .revision:
                try Self.requireEmpty(body, "REVISION")
                buffer.writeFrame(opcode: frame.opcode, flags: .reply, requestID: frame.requestID, revision: revision) {
                    Self.revisionInfo(snapshot).write(to: &$0)
                }
            case .snapshot:
                try Self.requireEmpty(body, "SNAPSHOT")
                switch snapshot.wholeDatabase.form {
                case .gzip(let file):
                    buffer.writeFrame(opcode: frame.opcode, flags: [.reply, .compressed], requestID: frame.requestID, revision: revision) { buffer in
                        _ = file.withUnsafeBytes { buffer.writeBytes($0) }
                    }
                case .identity(let bytes):
                    buffer.writeFrame(opcode: frame.opcode, flags: .reply, requestID: frame.requestID, revision: revision) {
                        $0.writeImmutableBuffer(bytes)
                    }
                }
            case .hello, .watch, .unwatch, .error, .revisionChanged:
                // HELLO/WATCH/UNWATCH are handled by the connection; ERROR and pushes are never requests.
                throw ProtocolError(.unknownOpcode, "unknown opcode 0x\(Self.hex(frame.opcode))")
            }
            return .ok
        } catch {
            Self.writeError(error, opcode: frame.opcode, requestID: frame.requestID, revision: revision, into: &buffer)
            return error.status
        }
    }

    /// Writes the reply to PING, its payload echoed, and returns its status. It needs no snapshot:
    /// `revision` is the served one, or none before the first load.
    static func pong(to frame: Frame, revision: Revision, into buffer: inout ByteBuffer) -> ProtocolStatus {
        guard frame.body.readableBytes <= ProtocolMessages.maximumPingPayload else {
            let error = ProtocolError(.badRequest, "malformed PING body: payload over \(ProtocolMessages.maximumPingPayload) bytes")
            Self.writeError(error, opcode: frame.opcode, requestID: frame.requestID, revision: revision, into: &buffer)
            return error.status
        }
        buffer.writeFrame(opcode: frame.opcode, flags: .reply, requestID: frame.requestID, revision: revision) {
            $0.writeImmutableBuffer(frame.body)
        }
        return .ok
    }

    /// Writes a GET reply frame with status OK, its body the release's record, in one pass over the
    /// output buffer: this is the reply to nearly every request, and `ByteBuffer`'s per-write
    /// bookkeeping showed in the profile.
    static func writeReply(
        opcode: UInt8,
        requestID: UInt32,
        revision: Revision,
        release: PackedRelease,
        into buffer: inout ByteBuffer
    ) {
        let total = Frame.headerSize + release.recordLength
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { out in
            out.storeBytes(of: UInt32(total - 4).bigEndian, toByteOffset: 0, as: UInt32.self)
            out.storeBytes(of: Frame.currentVersion, toByteOffset: 4, as: UInt8.self)
            out.storeBytes(of: opcode, toByteOffset: 5, as: UInt8.self)
            out.storeBytes(of: FrameFlags.reply.rawValue, toByteOffset: 6, as: UInt8.self)
            out.storeBytes(of: ProtocolStatus.ok.rawValue, toByteOffset: 7, as: UInt8.self)
            out.storeBytes(of: requestID.bigEndian, toByteOffset: 8, as: UInt32.self)
            out.storeBytes(of: revision.value.bigEndian, toByteOffset: 12, as: UInt64.self)
            if let base = out.baseAddress { release.writeRecord(to: base + Frame.headerSize) }
            return total
        }
    }

    static func revisionInfo(_ snapshot: Snapshot) -> ProtocolMessages.RevisionInfo {
        ProtocolMessages.RevisionInfo(
            loadedAtMilliseconds: snapshot.loadedAtMilliseconds,
            releases: UInt32(clamping: snapshot.releaseCount),
            containers: UInt32(clamping: snapshot.containerCount)
        )
    }

    static func writeError(_ error: ProtocolError, opcode: UInt8, requestID: UInt32, revision: Revision, into buffer: inout ByteBuffer) {
        buffer.writeFrame(opcode: opcode, flags: .reply, status: error.status, requestID: requestID, revision: revision) {
            ProtocolMessages.writeMessage(error.message, to: &$0)
        }
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }

    // MARK: Semantics (docs/protocol.md §7.4: name, then channel, then existence)

    static func lookup(_ key: ProtocolMessages.Key, in snapshot: Snapshot) throws(ProtocolError) -> ReleaseEntry {
        try Self.checkName(key.container)
        guard let index = snapshot.channelIndex(key.channel) else {
            throw ProtocolError(.badRequest, "unknown channel \"\(key.channel.prefix(64))\"")
        }
        guard let entry = snapshot.container(key.container) else {
            throw ProtocolError(.notFound, "no releases for container \"\(key.container)\"")
        }
        guard let release = entry.release(channel: index) else {
            throw ProtocolError(.notFound, "no release for container \"\(key.container)\" on channel \"\(key.channel)\"")
        }
        return release
    }

    /// A snapshot's releases all have a record (see `PackedRelease`); this turns a release without one
    /// into an INTERNAL error rather than a reply without its record.
    static func requireRecord(_ entry: ReleaseEntry?, _ container: String, _ channel: String) throws(ProtocolError) {
        guard entry?.hasRecord == true else {
            throw ProtocolError(.internal, "no binary record for container \"\(container)\" on channel \"\(channel)\"")
        }
    }

    static func checkName(_ container: String) throws(ProtocolError) {
        do {
            try FieldRules.checkContainer(container)
        } catch {
            throw ProtocolError(.badRequest, "invalid container name \(FieldRules.quoted(container))")
        }
    }

    static func decode<T>(_ what: String, _ body: () throws(ProtocolError) -> T) throws(ProtocolError) -> T {
        do {
            return try body()
        } catch {
            throw ProtocolError(.badRequest, "malformed \(what) body: \(error.message)")
        }
    }

    static func requireEmpty(_ body: ByteBuffer, _ what: String) throws(ProtocolError) {
        guard body.readableBytes == 0 else {
            throw ProtocolError(.badRequest, "malformed \(what) body: \(body.readableBytes) unexpected bytes")
        }
    }
}
