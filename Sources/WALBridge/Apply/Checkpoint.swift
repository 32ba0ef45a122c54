import PGOutput

/// The source position a target transaction records in `walbridge.progress`: the end of the last source transaction
/// (or backfill chunk) it holds.
struct Checkpoint: Sendable, Equatable {
    /// Where that source transaction's commit record starts (`pause --at-lsn` compares with it).
    var commitLSN: LSN
    /// The LSN just past the commit record; the flush position reported to the source.
    var endLSN: LSN
    /// Nil for a backfill chunk, which sits between transactions: the stored commit time stays.
    var commitTime: PGTimestamp?
}
