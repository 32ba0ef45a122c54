/// Where a table's backfill stands in `walbridge.backfill` (its `state` column).
public enum BackfillPhase: String, Sendable, Codable {
    /// Asked for (by `walbridge backfill`, or a table not yet seen under `backfill: auto`), not started.
    case pending
    /// Being copied, chunk by chunk.
    case copying
    /// Every row copied.
    case done
}
