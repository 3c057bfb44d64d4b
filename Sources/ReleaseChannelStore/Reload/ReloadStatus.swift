/// Counters and the last attempt, as shown by `/v1/health`.
public struct ReloadStatus: Sendable {
    public var lastReport: ReloadReport?
    public var succeeded: Int = 0
    public var failed: Int = 0

    public init() {}
}
