/// The outcome of one reload attempt.
public struct ReloadReport: Sendable {
    public enum Result: String, Sendable {
        /// A new revision is being served.
        case changed
        /// The file holds the revision already served; nothing was swapped.
        case unchanged
        /// The file was rejected; the previous snapshot keeps serving.
        case failed
    }

    /// Seconds since 1970 when the attempt finished.
    public let at: Double
    public let trigger: ReloadTrigger
    public let result: Result
    /// The revision served after the attempt (nil only when nothing has ever loaded).
    public let revision: String?
    public let error: DatabaseLoadError?
}
