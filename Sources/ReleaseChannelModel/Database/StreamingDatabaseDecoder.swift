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
enum StreamingDatabaseDecoder {
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> ReleaseDatabase? {
        var scanner = Scanner(bytes: bytes)
        return scanner.document()
    }
}

/// Returns nil from any function as soon as something is not exactly as expected.
private struct Scanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    // MARK: Document

    mutating func document() -> ReleaseDatabase? {
        guard self.consume(UInt8(ascii: "{")) else { return nil }
        var schemaVersion: Int64?
        var channels: [String]?
        var releases: [Release]?
        repeat {
            guard let key = self.string() else { return nil }
            guard self.consume(UInt8(ascii: ":")) else { return nil }
            switch key {
            case "schema_version" where schemaVersion == nil:
                schemaVersion = self.integer()
                guard schemaVersion == Int64(ReleaseDatabase.schemaVersion) else { return nil }
            case "channels" where channels == nil:
                guard let list = self.channels() else { return nil }
                channels = list
            case "releases" where releases == nil:
                // Releases are checked against the channels, so these must come first (as the canonical
                // form writes them).
                guard let channels, let list = self.releases(channels: channels) else { return nil }
                releases = list
            default:
                return nil
            }
        } while self.consume(UInt8(ascii: ","))
        guard self.consume(UInt8(ascii: "}")), schemaVersion != nil, let channels, let releases else { return nil }
        self.skipWhitespace()
        guard self.index == self.bytes.count else { return nil }
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
        guard self.consume(UInt8(ascii: "[")) else { return nil }
        var channels: [String] = []
        repeat {
            guard let name = self.string(), (try? FieldRules.checkChannelName(name)) != nil, !channels.contains(name) else { return nil }
            channels.append(name)
        } while self.consume(UInt8(ascii: ","))
        guard self.consume(UInt8(ascii: "]")), channels.count <= FieldRules.maximumChannels else { return nil }
        return channels
    }

    mutating func releases(channels: [String]) -> [Release]? {
        guard self.consume(UInt8(ascii: "[")) else { return nil }
        var releases: [Release] = []
        if self.consume(UInt8(ascii: "]")) { return releases }
        repeat {
            guard let release = self.release(channels: channels) else { return nil }
            releases.append(release)
        } while self.consume(UInt8(ascii: ","))
        guard self.consume(UInt8(ascii: "]")) else { return nil }
        return releases
    }

    mutating func release(channels: [String]) -> Release? {
        guard self.consume(UInt8(ascii: "{")) else { return nil }
        var container: String?
        var channel: String?
        var image: String?
        var digest: String?
        var updatedAt: String?
        var source: ReleaseSource?
        var sawSource = false
        var imageDigest: String?
        repeat {
            guard let key = self.string(), self.consume(UInt8(ascii: ":")) else { return nil }
            switch key {
            case "container" where container == nil:
                guard let value = self.string(), (try? FieldRules.checkContainer(value)) != nil else { return nil }
                container = value
            case "channel" where channel == nil:
                guard let value = self.string(), channels.contains(value) else { return nil }
                channel = value
            case "image" where image == nil:
                guard let value = self.string(), let reference = try? ImageReference(parsing: value) else { return nil }
                image = value
                imageDigest = reference.digest
            case "digest" where digest == nil:
                guard let value = self.string(), (try? FieldRules.checkDigest(value)) != nil else { return nil }
                digest = value
            case "updated_at" where updatedAt == nil:
                guard let value = self.string(), (try? FieldRules.checkTimestamp(value)) != nil else { return nil }
                updatedAt = value
            case "source" where !sawSource:
                sawSource = true
                guard let value = self.source() else { return nil }
                source = value.isEmpty ? nil : value
            default:
                return nil
            }
        } while self.consume(UInt8(ascii: ","))
        guard self.consume(UInt8(ascii: "}")), let container, let channel, let image, let updatedAt else { return nil }
        if let digest, let imageDigest, digest != imageDigest { return nil }
        return Release(container: container, channel: channel, image: image, digest: digest, updatedAt: updatedAt, source: source)
    }

    mutating func source() -> ReleaseSource? {
        guard self.consume(UInt8(ascii: "{")) else { return nil }
        var source = ReleaseSource()
        if self.consume(UInt8(ascii: "}")) { return source }
        var sawRunID = false
        repeat {
            guard let key = self.string(), self.consume(UInt8(ascii: ":")) else { return nil }
            switch key {
            case "repository" where source.repository == nil:
                guard let value = self.string(), (try? FieldRules.checkRepository(value)) != nil else { return nil }
                source.repository = value
            case "sha" where source.sha == nil:
                guard let value = self.string(), (try? FieldRules.checkCommitSHA(value)) != nil else { return nil }
                source.sha = value
            case "ref" where source.ref == nil:
                guard let value = self.string(), (try? FieldRules.checkGitRef(value)) != nil else { return nil }
                source.ref = value
            case "actor" where source.actor == nil:
                guard let value = self.string(), (try? FieldRules.checkActor(value)) != nil else { return nil }
                source.actor = value
            case "run_id" where !sawRunID:
                sawRunID = true
                guard let value = self.integer(), (try? FieldRules.checkRunID(value)) != nil else { return nil }
                source.runID = value
            default:
                return nil
            }
        } while self.consume(UInt8(ascii: ","))
        guard self.consume(UInt8(ascii: "}")) else { return nil }
        return source
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

    /// Skips whitespace, then consumes `byte` if it is next.
    mutating func consume(_ byte: UInt8) -> Bool {
        self.skipWhitespace()
        guard self.index < self.bytes.count, self.bytes[self.index] == byte else { return false }
        self.index += 1
        return true
    }

    /// A string without escape sequences or control characters, in valid UTF-8.
    mutating func string() -> String? {
        guard self.consume(UInt8(ascii: "\"")) else { return nil }
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
    mutating func integer() -> Int64? {
        self.skipWhitespace()
        let start = self.index
        var value: Int64 = 0
        while self.index < self.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self.bytes[self.index]) {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(self.bytes[self.index] - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
            self.index += 1
        }
        let digits = self.index - start
        guard digits > 0, digits == 1 || self.bytes[start] != UInt8(ascii: "0") else { return nil }
        // A fraction or an exponent makes it a JSON number the tree decoder reads as a Double.
        if self.index < self.bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(self.bytes[self.index]) { return nil }
        return value
    }
}
