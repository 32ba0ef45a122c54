import PGOutput

/// One slot's row in `walbridge.progress`: how far the bridge has applied the source.
struct SlotProgress: Sendable, Equatable {
    /// The end of the last source transaction applied (the checkpoint).
    var appliedLSN: LSN
    /// The commit position of that transaction (nil while only idle positions were recorded).
    var appliedCommitLSN: LSN?
    /// Its commit time on the source, as PostgreSQL prints a `timestamptz`.
    var sourceCommitTime: String?
    /// When the row was last written, as PostgreSQL prints a `timestamptz`.
    var updatedAt: String
    /// Seconds from the source commit time to the target's `now()` when read.
    var sourceCommitAge: Double?
}
