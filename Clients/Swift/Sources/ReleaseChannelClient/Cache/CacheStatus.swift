public import ReleaseChannelProtocol

extension ReleaseChannelClient {
    /// How current a cached-mode client's in-memory db is (``ReleaseChannelClient/cacheStatus``).
    public struct CacheStatus: Sendable, Equatable {
        /// The revision lookups answer from; nil before the first snapshot arrived.
        public var revision: Revision?
        /// The last revision the watched server announced (in its WATCH reply or a push); nil before the
        /// first WATCH reply.
        public var serverRevision: Revision?
        /// Why the last refresh failed; nil once one succeeds. ``ReleaseChannelClientError/responseTooLarge(_:)``
        /// (a db over ``ReleaseChannelClientConfiguration/maximumDecompressedBytes``) is tried again only for
        /// the next revision; other failures are retried with the reconnect backoff.
        public var lastError: ReleaseChannelClientError?
        /// Refreshes that failed in a row.
        public var failedRefreshes: Int

        /// Whether the cache holds what the server announced last.
        public var isCurrent: Bool { self.revision != nil && self.revision == self.serverRevision }

        /// Creates a status from its fields.
        public init(revision: Revision?, serverRevision: Revision?, lastError: ReleaseChannelClientError?, failedRefreshes: Int) {
            self.revision = revision
            self.serverRevision = serverRevision
            self.lastError = lastError
            self.failedRefreshes = failedRefreshes
        }
    }
}
