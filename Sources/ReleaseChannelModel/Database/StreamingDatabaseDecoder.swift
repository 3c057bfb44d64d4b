#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decodes a valid db in one pass over its bytes, without building a tree of JSON values.
///
/// This is the reload path's fast lane: it accepts only documents it can fully check on the way —
/// the shape the format defines, strings without escape sequences, whitespace between tokens — and
/// applies the same rules as ``DatabaseDecoder``. Anything else (an error of any kind, but also a valid
/// document that uses escapes or a byte order mark) makes it return nil, and the caller runs the
/// tree-based decoder, which accepts every valid document and words every error with its position.
/// So a document this decoder accepts is one the tree-based decoder accepts too, with the same result;
/// a test checks both on valid and invalid documents.
///
/// Building the tree (an enum per value, an array per object, a string per key) and walking it was
/// more than half of a reload's time.
///
/// On the way it also notes whether the bytes are exactly ``CanonicalEncoder``'s output for the result
/// (its whitespace, key order, release order, no empty `source`): the GitOps flow only writes canonical
/// files, and for those the reload can use the bytes as they are instead of encoding them again. A test
/// checks on mutated documents that `isCanonical` holds exactly when the encoder gives the same bytes.
enum StreamingDatabaseDecoder {
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> DecodedDatabase? {
        var scanner = Scanner(bytes: bytes)
        guard let database = scanner.document() else { return nil }
        return DecodedDatabase(database: database, canonicalReleaseSpans: scanner.isCanonical ? scanner.releaseSpans : nil)
    }
}

/// Returns nil from any function as soon as something is not exactly as expected.
private struct Scanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    /// Cleared at the first byte that differs from the canonical encoding of what was read so far.
    var isCanonical = true
    /// Whether every release so far came strictly after the one before it in canonical order.
    var inOrder = true
    /// The previous release's container and channel position, for ``inOrder``.
    var previousContainer: String?
    var previousChannel = -1
    /// Where each release's object is, in document order.
    var releaseSpans: [Range<Int>] = []

    // The whitespace the canonical encoding puts before each kind of token.
    static let topLevelKey: StaticString = "\n  "
    static let releaseStart: StaticString = "\n    "
    static let releaseKey: StaticString = "\n      "
    static let sourceKey: StaticString = "\n        "

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    // MARK: Document

    mutating func document() -> ReleaseDatabase? {
        guard self.consume(UInt8(ascii: "{"), after: "") else { return nil }
        var schemaVersion: Int64?
        var channels: [String]?
        var releases: [Release]?
        var order = KeyOrder()
        repeat {
            guard let key = self.key(after: Self.topLevelKey, TopLevelKey.self) else { return nil }
            guard self.consume(UInt8(ascii: ":"), after: "") else { return nil }
            order.next(key.rawValue, &self.isCanonical)
            switch key {
            case .schemaVersion where schemaVersion == nil:
                schemaVersion = self.integer(after: " ")
                guard schemaVersion == Int64(ReleaseDatabase.schemaVersion) else { return nil }
            case .channels where channels == nil:
                guard let list = self.channels() else { return nil }
                channels = list
            case .releases where releases == nil:
                // Releases are checked against the channels, so these must come first (as the canonical
                // form writes them).
                guard let channels, let list = self.releases(channels: channels) else { return nil }
                releases = list
            default:
                return nil
            }
        } while self.consume(UInt8(ascii: ","), after: "")
        guard self.consume(UInt8(ascii: "}"), after: "\n"), schemaVersion != nil, let channels, let releases else { return nil }
        let end = self.index
        self.skipWhitespace()
        guard self.index == self.bytes.count else { return nil }
        self.expect("\n", from: end)
        // Strictly increasing order (what files written by this tool have) rules out duplicates too.
        if self.inOrder {
            return ReleaseDatabase(channels: channels, releasesInCanonicalOrder: releases)
        }
        self.isCanonical = false
        let database = ReleaseDatabase(channels: channels, releases: releases)
        // Each (container, channel) pair at most once: in canonical order duplicates are neighbours.
        let sorted = database.releases
        for index in sorted.indices.dropFirst()
        where sorted[index].container == sorted[index - 1].container && sorted[index].channel == sorted[index - 1].channel {
            return nil
        }
        return database
    }

    mutating func channels() -> [String]? {
        guard self.consume(UInt8(ascii: "["), after: " ") else { return nil }
        var channels: [String] = []
        repeat {
            guard let name = self.string(after: channels.isEmpty ? "" : " "), (try? FieldRules.checkChannelName(name)) != nil,
                !channels.contains(name)
            else { return nil }
            channels.append(name)
        } while self.consume(UInt8(ascii: ","), after: "")
        guard self.consume(UInt8(ascii: "]"), after: ""), channels.count <= FieldRules.maximumChannels else { return nil }
        return channels
    }

    mutating func releases(channels: [String]) -> [Release]? {
        guard self.consume(UInt8(ascii: "["), after: " ") else { return nil }
        var releases: [Release] = []
        if self.consume(UInt8(ascii: "]"), after: "") { return releases }
        repeat {
            guard let release = self.release(channels: channels) else { return nil }
            releases.append(release)
        } while self.consume(UInt8(ascii: ","), after: "")
        guard self.consume(UInt8(ascii: "]"), after: "\n  ") else { return nil }
        return releases
    }

    mutating func release(channels: [String]) -> Release? {
        guard self.consume(UInt8(ascii: "{"), after: Self.releaseStart) else { return nil }
        let start = self.index - 1
        var container: String?
        var channel: String?
        var image: String?
        var digest: String?
        var updatedAt: String?
        var source: ReleaseSource?
        var sawSource = false
        var imageDigest: String?
        var channelPosition = -1
        var order = KeyOrder()
        repeat {
            guard let key = self.key(after: Self.releaseKey, ReleaseKey.self), self.consume(UInt8(ascii: ":"), after: "") else { return nil }
            order.next(key.rawValue, &self.isCanonical)
            switch key {
            case .container where container == nil:
                guard let value = self.string(after: " "), (try? FieldRules.checkContainer(value)) != nil else { return nil }
                container = value
            case .channel where channel == nil:
                guard let value = self.string(after: " "), let position = channels.firstIndex(of: value) else { return nil }
                channel = value
                channelPosition = position
            case .image where image == nil:
                guard let value = self.string(after: " ") else { return nil }
                do {
                    imageDigest = try ImageReference.validatedDigest(of: value)
                } catch {
                    return nil
                }
                image = value
            case .digest where digest == nil:
                guard let value = self.string(after: " "), (try? FieldRules.checkDigest(value)) != nil else { return nil }
                digest = value
            case .updatedAt where updatedAt == nil:
                guard let value = self.string(after: " "), (try? FieldRules.checkTimestamp(value)) != nil else { return nil }
                updatedAt = value
            case .source where !sawSource:
                sawSource = true
                guard let value = self.source() else { return nil }
                // The canonical form leaves an empty source out.
                if value.isEmpty { self.isCanonical = false }
                source = value.isEmpty ? nil : value
            default:
                return nil
            }
        } while self.consume(UInt8(ascii: ","), after: "")
        guard self.consume(UInt8(ascii: "}"), after: Self.releaseStart), let container, let channel, let image, let updatedAt else { return nil }
        if let digest, let imageDigest, digest != imageDigest { return nil }
        if self.inOrder { self.checkOrder(container: container, channel: channelPosition) }
        self.releaseSpans.append(start..<self.index)
        return Release(container: container, channel: channel, image: image, digest: digest, updatedAt: updatedAt, source: source)
    }

    mutating func source() -> ReleaseSource? {
        guard self.consume(UInt8(ascii: "{"), after: " ") else { return nil }
        var source = ReleaseSource()
        if self.consume(UInt8(ascii: "}"), after: "") { return source }
        var sawRunID = false
        var order = KeyOrder()
        repeat {
            guard let key = self.key(after: Self.sourceKey, SourceKey.self), self.consume(UInt8(ascii: ":"), after: "") else { return nil }
            order.next(key.rawValue, &self.isCanonical)
            switch key {
            case .repository where source.repository == nil:
                guard let value = self.string(after: " "), (try? FieldRules.checkRepository(value)) != nil else { return nil }
                source.repository = value
            case .sha where source.sha == nil:
                guard let value = self.string(after: " "), (try? FieldRules.checkCommitSHA(value)) != nil else { return nil }
                source.sha = value
            case .ref where source.ref == nil:
                guard let value = self.string(after: " "), (try? FieldRules.checkGitRef(value)) != nil else { return nil }
                source.ref = value
            case .runID where !sawRunID:
                sawRunID = true
                guard let value = self.integer(after: " "), (try? FieldRules.checkRunID(value)) != nil else { return nil }
                source.runID = value
            case .actor where source.actor == nil:
                guard let value = self.string(after: " "), (try? FieldRules.checkActor(value)) != nil else { return nil }
                source.actor = value
            default:
                return nil
            }
        } while self.consume(UInt8(ascii: ","), after: "")
        guard self.consume(UInt8(ascii: "}"), after: Self.releaseKey) else { return nil }
        return source
    }

    // MARK: Canonical form

    /// Releases in canonical order: by container (bytewise), then by channel position.
    mutating func checkOrder(container: String, channel: Int) {
        if var previous = self.previousContainer {
            // Bytewise over contiguous UTF-8: the generic comparisons of `String.UTF8View` had been 3% of
            // a large reload.
            var container = container
            let order = previous.withUTF8 { previous in
                container.withUTF8 { container in
                    let common = min(previous.count, container.count)
                    guard common > 0, let left = previous.baseAddress, let right = container.baseAddress else {
                        return previous.count - container.count
                    }
                    let prefix = memcmp(left, right, common)
                    return prefix != 0 ? Int(prefix) : previous.count - container.count
                }
            }
            if order == 0 {
                if channel <= self.previousChannel { self.inOrder = false }
            } else if order > 0 {
                self.inOrder = false
            }
        }
        self.previousContainer = container
        self.previousChannel = channel
    }

    /// Clears ``isCanonical`` unless the bytes from `start` to the current position are `whitespace`.
    mutating func expect(_ whitespace: StaticString, from start: Int) {
        guard self.isCanonical else { return }
        let count = whitespace.utf8CodeUnitCount
        guard self.index - start == count,
            count == 0 || memcmp(whitespace.utf8Start, self.bytes.baseAddress! + start, count) == 0
        else {
            self.isCanonical = false
            return
        }
    }

    // MARK: Tokens

    mutating func skipWhitespace() {
        while self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r"): self.index += 1
            default: return
            }
        }
    }

    /// Skips whitespace, then consumes `byte` if it is next, noting whether the whitespace was the
    /// canonical `whitespace`. When `byte` is not next, nothing is consumed.
    mutating func consume(_ byte: UInt8, after whitespace: StaticString) -> Bool {
        let start = self.index
        self.skipWhitespace()
        guard self.index < self.bytes.count, self.bytes[self.index] == byte else {
            self.index = start
            return false
        }
        self.expect(whitespace, from: start)
        self.index += 1
        return true
    }

    /// A member name, matched on its bytes (no string is built for the eleven keys of every release);
    /// nil for anything that is not one of `Key`'s names, which the fast path leaves to the tree decoder.
    mutating func key<Key: MemberName>(after whitespace: StaticString, _: Key.Type) -> Key? {
        guard self.consume(UInt8(ascii: "\""), after: whitespace) else { return nil }
        let start = self.index
        guard let end = UnsafeBufferPointer(rebasing: self.bytes[start...]).firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        let name = UnsafeBufferPointer(rebasing: self.bytes[start..<(start + end)])
        self.index = start + end + 1
        for key in Key.allCases {
            let expected = key.name
            if expected.utf8CodeUnitCount == name.count, memcmp(expected.utf8Start, name.baseAddress!, name.count) == 0 {
                return key
            }
        }
        return nil
    }

    /// A string without escape sequences or control characters, in valid UTF-8, after whitespace.
    mutating func string(after whitespace: StaticString) -> String? {
        guard self.consume(UInt8(ascii: "\""), after: whitespace) else { return nil }
        let start = self.index
        var bits: UInt8 = 0
        while self.index < self.bytes.count {
            let byte = self.bytes[self.index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: self.bytes[start..<self.index])
                self.index += 1
                return bits < 0x80 ? String(decoding: slice, as: UTF8.self) : String(validating: slice, as: UTF8.self)
            }
            guard byte >= 0x20, byte != UInt8(ascii: "\\") else { return nil }
            bits |= byte
            self.index += 1
        }
        return nil
    }

    /// A non-negative JSON integer that fits `Int64` (no sign, fraction or exponent; no leading zero).
    mutating func integer(after whitespace: StaticString) -> Int64? {
        let whitespaceStart = self.index
        self.skipWhitespace()
        self.expect(whitespace, from: whitespaceStart)
        guard let value = JSONInteger.read(self.bytes, at: &self.index) else { return nil }
        // A fraction or an exponent makes it a JSON number the tree decoder reads as a Double.
        if self.index < self.bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(self.bytes[self.index]) { return nil }
        return value
    }
}

/// Keys in the order the canonical form writes them: each key's rank must exceed the previous one's.
private struct KeyOrder {
    var last = -1

    mutating func next(_ rank: Int, _ isCanonical: inout Bool) {
        if rank <= self.last { isCanonical = false }
        self.last = rank
    }
}

/// The member names the format defines, in the order the canonical form writes them (`rawValue` is the
/// rank ``KeyOrder`` checks).
private protocol MemberName: RawRepresentable<Int>, CaseIterable {
    var name: StaticString { get }
}

private enum TopLevelKey: Int, MemberName {
    case schemaVersion, channels, releases

    var name: StaticString {
        switch self {
        case .schemaVersion: "schema_version"
        case .channels: "channels"
        case .releases: "releases"
        }
    }
}

private enum ReleaseKey: Int, MemberName {
    case container, channel, image, digest, updatedAt, source

    var name: StaticString {
        switch self {
        case .container: "container"
        case .channel: "channel"
        case .image: "image"
        case .digest: "digest"
        case .updatedAt: "updated_at"
        case .source: "source"
        }
    }
}

private enum SourceKey: Int, MemberName {
    case repository, sha, ref, runID, actor

    var name: StaticString {
        switch self {
        case .repository: "repository"
        case .sha: "sha"
        case .ref: "ref"
        case .runID: "run_id"
        case .actor: "actor"
        }
    }
}
