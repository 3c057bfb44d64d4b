/// Writes a release as a JSON object, in the file's indented layout or the API's compact one. One
/// writer for both keeps the key order and the omission of absent keys identical everywhere.
public enum ReleaseObjectEncoder {
    private static let indentation: [String] = (0...16).map { String(repeating: " ", count: $0) }

    private static func spaces(_ count: Int) -> String {
        count < Self.indentation.count ? Self.indentation[count] : String(repeating: " ", count: count)
    }

    /// - Parameters:
    ///   - indent: Spaces before the object's brace in the indented layout (4 in the db file), or nil
    ///     for compact JSON.
    public static func append(_ release: Release, to writer: inout JSONWriter, indent: Int?) {
        let colon: StaticString = indent == nil ? ":" : ": "
        func key(_ name: String, first: Bool, level: Int) {
            if !first { writer.raw(",") }
            if let indent {
                writer.raw("\n")
                writer.raw(Self.spaces(indent + 2 * level))
            }
            writer.string(name)
            writer.raw(colon)
        }
        func close(level: Int) {
            if let indent {
                writer.raw("\n")
                writer.raw(Self.spaces(indent + 2 * (level - 1)))
            }
            writer.raw("}")
        }
        if let indent { writer.raw(Self.spaces(indent)) }
        writer.raw("{")
        key("container", first: true, level: 1)
        writer.string(release.container)
        key("channel", first: false, level: 1)
        writer.string(release.channel)
        key("image", first: false, level: 1)
        writer.string(release.image)
        if let digest = release.digest {
            key("digest", first: false, level: 1)
            writer.string(digest)
        }
        key("updated_at", first: false, level: 1)
        writer.string(release.updatedAt)
        if let source = release.source, !source.isEmpty {
            key("source", first: false, level: 1)
            writer.raw("{")
            var first = true
            if let repository = source.repository {
                key("repository", first: first, level: 2)
                writer.string(repository)
                first = false
            }
            if let sha = source.sha {
                key("sha", first: first, level: 2)
                writer.string(sha)
                first = false
            }
            if let ref = source.ref {
                key("ref", first: first, level: 2)
                writer.string(ref)
                first = false
            }
            if let runID = source.runID {
                key("run_id", first: first, level: 2)
                writer.integer(runID)
                first = false
            }
            if let actor = source.actor {
                key("actor", first: first, level: 2)
                writer.string(actor)
            }
            close(level: 2)
        }
        close(level: 1)
    }
}
