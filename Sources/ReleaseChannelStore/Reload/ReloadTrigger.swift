/// What asked for a reload; reported in health, logs and metrics.
public enum ReloadTrigger: String, Sendable, CaseIterable {
    case startup
    case fileWatch = "file-watch"
    case poll
    case api
    case signal
}
