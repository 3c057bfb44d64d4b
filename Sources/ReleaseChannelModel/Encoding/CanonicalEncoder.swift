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
            ReleaseObjectEncoder.append(release, to: &writer, indent: 4)
        }
        writer.raw("\n  ]\n}\n")
        return writer.bytes
    }
}
