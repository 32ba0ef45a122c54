/// One slot's row of `walbridge.switch`: the last cut-over and what became of it.
public struct SwitchRecord: Sendable, Codable, Equatable {
    public var phase: SwitchPhase
    /// The last step done within the phase (`CutoverStep` or `RollbackStep`).
    public var step: String
    /// `trigger`, `lock` or `none`.
    public var fence: String
    /// Whether reverse replication carries the new schema's writes back to the legacy tables.
    public var reverse: Bool
    /// The source LSN the forward direction drained to, right after the fence.
    public var fenceLSN: String?
    public var fencedAt: String?
    public var switchedAt: String?
    /// From the fence to the switch: how long the application could write neither schema.
    public var unavailableMilliseconds: Double?
    /// The reverse direction's LSN its drain reached at the rollback.
    public var rollbackLSN: String?
    public var rolledBackAt: String?
    /// From the rollback's fence on the new tables to the legacy tables' opening: how long neither schema took writes.
    public var rollbackUnavailableMilliseconds: Double?
    public var updatedAt: String
}
