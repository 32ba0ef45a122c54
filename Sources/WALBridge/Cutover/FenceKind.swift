/// How `walbridge cutover` keeps the application from writing the legacy tables while the bridge drains.
public enum FenceKind: String, Sendable, CaseIterable {
    /// A trigger on each table refuses writes (SQLSTATE 25006) until it is lifted.
    case trigger
    /// An EXCLUSIVE lock queues writes (for at most `--lock-timeout`); a trigger refuses them once the lock ends.
    case lock
    /// Nothing: the application is stopped already.
    case none
}
