/// What `walbridge cutover` is asked to do.
public struct CutoverOptions: Sendable {
    public var fence: FenceKind = .trigger
    /// How long the fence may wait for the tables' running writers, and how long a lock fence may queue writes.
    public var lockTimeout: Duration = .seconds(5)
    /// The bridge must apply the source's current position within this.
    public var maxLag: Duration = .seconds(1)
    public var verify: VerifyGate = .sample(1000)
    /// Start reverse replication once switched.
    public var reverse = false
    /// Print the steps and the gates' findings without changing anything.
    public var dryRun = false
    /// How long the drain to the fence LSN may take before the cut-over is undone.
    public var drainTimeout: Duration = .seconds(60)

    public init() {}
}
