/// Turns db file bytes into a ``ReleaseDatabase``, reporting every rule violation with its path and position.
public enum DatabaseDecoder {
    static let topLevelKeys = ["schema_version", "channels", "releases"]
    static let releaseKeys = ["container", "channel", "image", "digest", "updated_at", "source"]
    static let sourceKeys = ["repository", "sha", "ref", "run_id", "actor"]

    /// Parses and validates a db document.
    public static func decode(_ bytes: some Collection<UInt8>) throws(DatabaseDecodingError) -> ReleaseDatabase {
        try Self.decodeNotingCanonical(Array(bytes)).database
    }

    /// Parses and validates a db document, and says whether its bytes already are
    /// `CanonicalEncoder.encode(database)` (then the caller can use them instead of encoding again).
    public static func decodeNotingCanonical(_ bytes: [UInt8]) throws(DatabaseDecodingError) -> DecodedDatabase {
        // Most documents are valid and plain; the one-pass decoder takes those, and everything else
        // (including every error, which must be reported with its position) goes through the tree.
        if let decoded = bytes.withUnsafeBufferPointer({ StreamingDatabaseDecoder.decode($0) }) {
            return decoded
        }
        return DecodedDatabase(database: try Self.decodeWithDiagnostics(bytes), canonicalReleaseSpans: nil)
    }

    /// ``decodeNotingCanonical(_:)`` over bytes in place (a file read into a buffer); they are copied
    /// only for the tree decoder.
    public static func decodeNotingCanonical(_ bytes: UnsafeBufferPointer<UInt8>) throws(DatabaseDecodingError) -> DecodedDatabase {
        if let decoded = StreamingDatabaseDecoder.decode(bytes) {
            return decoded
        }
        return DecodedDatabase(database: try Self.decodeWithDiagnostics(Array(bytes)), canonicalReleaseSpans: nil)
    }

    /// Where the releases are in bytes that are exactly the canonical encoding of a valid db, checked by
    /// the db's rules without decoding them (see ``CanonicalDatabaseIndex``); nil for any other bytes,
    /// valid or not, which ``decodeNotingCanonical(_:)-([UInt8])`` then reads. Strings with escape sequences or
    /// non-ASCII bytes are among those.
    public static func indexCanonical(_ bytes: UnsafeBufferPointer<UInt8>) -> CanonicalDatabaseIndex? {
        CanonicalIndexer.index(bytes)
    }

    /// As ``indexCanonical(_:)``, taking from `carryover` the releases whose bytes did not change since
    /// the previous file: the same index, in a fraction of the time when few releases changed.
    /// - Returns: The index, and per release its position in the previous index (-1: read anew).
    public static func indexCanonical(
        _ bytes: UnsafeBufferPointer<UInt8>,
        carryingOver carryover: IndexCarryover
    ) -> (index: CanonicalDatabaseIndex, origins: [Int32])? {
        CanonicalIndexer.index(bytes, carryover: carryover)
    }

    /// The tree-based decoder: accepts every valid document and reports every problem of an invalid one.
    static func decodeWithDiagnostics(_ bytes: [UInt8]) throws(DatabaseDecodingError) -> ReleaseDatabase {
        guard bytes.contains(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) else {
            throw .empty
        }
        let root: JSONNode
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            throw .syntax(error)
        }
        var context = Context()
        let database = context.decodeDatabase(root)
        guard context.issues.isEmpty, let database else { throw .invalid(context.issues) }
        return database
    }
}

/// An object's members, looked up by key.
private struct Fields {
    var members: [JSONMember] = []

    subscript(key: String) -> JSONNode? {
        self.members.first { $0.key == key }?.value
    }
}

/// Collects issues while walking the document so that one pass reports all of them.
///
/// Paths (`releases[17].image`) are passed as autoclosures: they are only needed for an issue, and
/// building them for every field of every release was a large share of the reload time.
private struct Context {
    var issues: [ValidationIssue] = []

    mutating func report(_ path: String, _ node: JSONNode?, _ message: String) {
        self.issues.append(ValidationIssue(path: path, position: node?.position, message: message))
    }

    /// The members of an object whose keys are allowed (unknown keys are reported). A db object has at
    /// most six keys, so ``Fields`` finds them by a linear scan rather than hashing.
    mutating func members(_ node: JSONNode, path: @autoclosure () -> String, allowed: [String]) -> Fields? {
        guard case .object(let members) = node.value else {
            self.report(path(), node, "must be an object, found \(node.value.typeDescription)")
            return nil
        }
        var result = Fields()
        result.members.reserveCapacity(members.count)
        for member in members {
            if allowed.contains(member.key) {
                result.members.append(member)
            } else {
                let parent = path()
                let memberPath = parent == "$" ? member.key : "\(parent).\(member.key)"
                self.issues.append(
                    ValidationIssue(
                        path: memberPath,
                        position: member.keyPosition,
                        message: "unknown key \(FieldRules.quoted(member.key)) (allowed: \(allowed.joined(separator: ", ")))"
                    )
                )
            }
        }
        return result
    }

    /// Reads a string member and checks it; a missing required member is reported at its parent object.
    mutating func string(
        _ node: JSONNode?,
        path: @autoclosure () -> String,
        required: Bool,
        parent: JSONNode? = nil,
        check: (String) throws(FieldError) -> Void
    ) -> String? {
        guard let node else {
            if required { self.report(path(), parent, "is required") }
            return nil
        }
        guard case .string(let value) = node.value else {
            self.report(path(), node, "must be a string, found \(node.value.typeDescription)")
            return nil
        }
        do {
            try check(value)
        } catch {
            self.report(path(), node, error.message)
            return nil
        }
        return value
    }

    mutating func decodeDatabase(_ root: JSONNode) -> ReleaseDatabase? {
        guard let fields = self.members(root, path: "$", allowed: DatabaseDecoder.topLevelKeys) else { return nil }
        self.checkSchemaVersion(fields["schema_version"], root: root)
        let channels = self.decodeChannels(fields["channels"], root: root)
        guard let releasesNode = fields["releases"] else {
            self.report("releases", root, "is required")
            return nil
        }
        guard case .array(let elements) = releasesNode.value else {
            self.report("releases", releasesNode, "must be an array, found \(releasesNode.value.typeDescription)")
            return nil
        }
        var releases: [Release] = []
        releases.reserveCapacity(elements.count)
        var firstIndexOfPair: [String: [String: Int]] = [:]
        for (index, element) in elements.enumerated() {
            guard let release = self.decodeRelease(element, index: index, channels: channels) else { continue }
            if let first = firstIndexOfPair[release.container]?[release.channel] {
                self.report(
                    "releases[\(index)]",
                    element,
                    "duplicate release for container \"\(release.container)\" on channel \"\(release.channel)\" (first at releases[\(first)])"
                )
                continue
            }
            firstIndexOfPair[release.container, default: [:]][release.channel] = index
            releases.append(release)
        }
        guard let channels else { return nil }
        return ReleaseDatabase(channels: channels, releases: releases)
    }

    mutating func checkSchemaVersion(_ node: JSONNode?, root: JSONNode) {
        guard let node else {
            self.report("schema_version", root, "is required (use 1)")
            return
        }
        guard case .integer(let version) = node.value, version == Int64(ReleaseDatabase.schemaVersion) else {
            self.report("schema_version", node, "unsupported schema version, expected 1")
            return
        }
    }

    mutating func decodeChannels(_ node: JSONNode?, root: JSONNode) -> [String]? {
        guard let node else {
            self.report("channels", root, "is required")
            return nil
        }
        guard case .array(let elements) = node.value else {
            self.report("channels", node, "must be an array of channel names, found \(node.value.typeDescription)")
            return nil
        }
        guard (1...FieldRules.maximumChannels).contains(elements.count) else {
            self.report("channels", node, "must list between 1 and \(FieldRules.maximumChannels) channels, found \(elements.count)")
            return nil
        }
        var channels: [String] = []
        var valid = true
        for (index, element) in elements.enumerated() {
            let path = "channels[\(index)]"
            guard let name = self.string(element, path: path, required: true, check: FieldRules.checkChannelName) else {
                valid = false
                continue
            }
            if channels.contains(name) {
                self.report(path, element, "channel \"\(name)\" is listed twice")
                valid = false
            }
            channels.append(name)
        }
        return valid ? channels : nil
    }

    mutating func decodeRelease(_ node: JSONNode, index: Int, channels: [String]?) -> Release? {
        func path() -> String { "releases[\(index)]" }
        guard let fields = self.members(node, path: path(), allowed: DatabaseDecoder.releaseKeys) else { return nil }
        let issuesBefore = self.issues.count
        let container = self.string(fields["container"], path: "\(path()).container", required: true, parent: node, check: FieldRules.checkContainer)
        let channel = self.string(fields["channel"], path: "\(path()).channel", required: true, parent: node) { (value) throws(FieldError) in
            guard let channels else { return }  // already reported at "channels"
            guard channels.contains(value) else {
                throw FieldError("channel \(FieldRules.quoted(value)) is not listed in channels (\(channels.joined(separator: ", ")))")
            }
        }
        let image = self.string(fields["image"], path: "\(path()).image", required: true, parent: node, check: FieldRules.checkImage)
        let digest = self.string(fields["digest"], path: "\(path()).digest", required: false, check: FieldRules.checkDigest)
        let updatedAt = self.string(fields["updated_at"], path: "\(path()).updated_at", required: true, parent: node, check: FieldRules.checkTimestamp)
        var source: ReleaseSource?
        if let sourceNode = fields["source"] {
            source = self.decodeSource(sourceNode, path: "\(path()).source")
        }
        if let image, let digest, let imageDigest = try? ImageReference.validatedDigest(of: image), imageDigest != digest {
            self.report("\(path()).digest", fields["digest"], "digest \(digest) does not match the digest in image \(FieldRules.quoted(image))")
        }
        guard self.issues.count == issuesBefore, let container, let channel, let image, let updatedAt else { return nil }
        return Release(container: container, channel: channel, image: image, digest: digest, updatedAt: updatedAt, source: source)
    }

    mutating func decodeSource(_ node: JSONNode, path: @autoclosure () -> String) -> ReleaseSource? {
        guard let fields = self.members(node, path: path(), allowed: DatabaseDecoder.sourceKeys) else { return nil }
        var source = ReleaseSource()
        source.repository = self.string(fields["repository"], path: "\(path()).repository", required: false, check: FieldRules.checkRepository)
        source.sha = self.string(fields["sha"], path: "\(path()).sha", required: false, check: FieldRules.checkCommitSHA)
        source.ref = self.string(fields["ref"], path: "\(path()).ref", required: false, check: FieldRules.checkGitRef)
        source.actor = self.string(fields["actor"], path: "\(path()).actor", required: false, check: FieldRules.checkActor)
        if let runNode = fields["run_id"] {
            if case .integer(let runID) = runNode.value {
                do throws(FieldError) {
                    try FieldRules.checkRunID(runID)
                    source.runID = runID
                } catch {
                    self.report("\(path()).run_id", runNode, error.message)
                }
            } else {
                self.report("\(path()).run_id", runNode, "must be a positive integer, found \(runNode.value.typeDescription)")
            }
        }
        return source.isEmpty ? nil : source
    }
}
