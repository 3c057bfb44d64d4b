/// A decoded db and what the decoder learned about the bytes it came from.
public struct DecodedDatabase: Sendable {
    public let database: ReleaseDatabase
    /// For bytes that are exactly `CanonicalEncoder.encode(database)`: the byte range of each release's
    /// object (`{` to `}`), in the order of `database.releases`; nil otherwise. The snapshot builder
    /// derives the compact JSON of a release from its range instead of encoding it again.
    public let canonicalReleaseSpans: [Range<Int>]?

    /// Whether the bytes are the canonical encoding (the decoder may say no for a canonical document it
    /// leaves to the tree decoder, such as one with escape sequences).
    public var isCanonical: Bool { self.canonicalReleaseSpans != nil }
}
