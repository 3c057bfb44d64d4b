/// Writes the canonical db file: the one byte sequence `db fmt` produces and the revision hashes.
///
/// Stable key order, releases sorted (``ReleaseDatabase`` keeps them so), 2-space indent, `channels`
/// inline, optional keys omitted, trailing newline. Equal databases always encode to equal bytes.
public enum CanonicalEncoder {
    public static func encode(_ database: ReleaseDatabase) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 64 + database.releases.count * 400)
        writer.raw("{\n  \"schema_version\": ")
        writer.integer(Int64(ReleaseDatabase.schemaVersion))
        writer.raw(",\n  \"channels\": [")
        for (index, channel) in database.channels.enumerated() {
            if index > 0 { writer.raw(", ") }
            writer.string(channel)
        }
        if database.releases.isEmpty {
            writer.raw("],\n  \"releases\": []\n}\n")
            return writer.bytes
        }
        writer.raw("],\n  \"releases\": [\n")
        for (index, release) in database.releases.enumerated() {
            if index > 0 { writer.raw(",\n") }
            Self.append(release, to: &writer)
        }
        writer.raw("\n  ]\n}\n")
        return writer.bytes
    }

    static func append(_ release: Release, to writer: inout JSONWriter) {
        writer.raw("    {\n      \"container\": ")
        writer.string(release.container)
        writer.raw(",\n      \"channel\": ")
        writer.string(release.channel)
        writer.raw(",\n      \"image\": ")
        writer.string(release.image)
        if let digest = release.digest {
            writer.raw(",\n      \"digest\": ")
            writer.string(digest)
        }
        writer.raw(",\n      \"updated_at\": ")
        writer.string(release.updatedAt)
        if let source = release.source, !source.isEmpty {
            writer.raw(",\n      \"source\": {")
            var separator: StaticString = "\n        "
            func key(_ name: StaticString, _ writer: inout JSONWriter) {
                writer.raw(separator)
                writer.raw(name)
                separator = ",\n        "
            }
            if let repository = source.repository {
                key("\"repository\": ", &writer)
                writer.string(repository)
            }
            if let sha = source.sha {
                key("\"sha\": ", &writer)
                writer.string(sha)
            }
            if let ref = source.ref {
                key("\"ref\": ", &writer)
                writer.string(ref)
            }
            if let runID = source.runID {
                key("\"run_id\": ", &writer)
                writer.integer(runID)
            }
            if let actor = source.actor {
                key("\"actor\": ", &writer)
                writer.string(actor)
            }
            writer.raw("\n      }")
        }
        writer.raw("\n    }")
    }
}
