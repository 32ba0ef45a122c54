/// Where a cut-over stands, as `walbridge.switch` records it.
public enum SwitchPhase: String, Sendable, Codable {
    /// `walbridge cutover` has begun and not finished: the legacy tables may be fenced.
    case cuttingOver = "cutting_over"
    /// Writes go to the new schema; with reverse replication, the legacy tables follow them.
    case switched
    /// `walbridge rollback` has begun and not finished: the new tables may be fenced.
    case rollingBack = "rolling_back"
    /// Writes went back to the legacy schema; forward replication runs again.
    case rolledBack = "rolled_back"
    /// `cutover --abort` (or a lost lock fence) undid a cut-over before it switched.
    case aborted
}
