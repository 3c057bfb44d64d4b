/// Writes a release as one compact JSON object, the representation every API response uses.
public enum CompactReleaseEncoder {
    public static func append(_ release: Release, to writer: inout JSONWriter) {
        writer.raw("{\"container\":")
        writer.string(release.container)
        writer.raw(",\"channel\":")
        writer.string(release.channel)
        writer.raw(",\"image\":")
        writer.string(release.image)
        if let digest = release.digest {
            writer.raw(",\"digest\":")
            writer.string(digest)
        }
        writer.raw(",\"updated_at\":")
        writer.string(release.updatedAt)
        if let source = release.source, !source.isEmpty {
            writer.raw(",\"source\":{")
            var first = true
            func key(_ name: StaticString, _ writer: inout JSONWriter) {
                if !first { writer.raw(",") }
                writer.raw(name)
                first = false
            }
            if let repository = source.repository {
                key("\"repository\":", &writer)
                writer.string(repository)
            }
            if let sha = source.sha {
                key("\"sha\":", &writer)
                writer.string(sha)
            }
            if let ref = source.ref {
                key("\"ref\":", &writer)
                writer.string(ref)
            }
            if let runID = source.runID {
                key("\"run_id\":", &writer)
                writer.integer(runID)
            }
            if let actor = source.actor {
                key("\"actor\":", &writer)
                writer.string(actor)
            }
            writer.raw("}")
        }
        writer.raw("}")
    }
}
