import PGOutput

/// The rows of a chunk that go to the target at the high watermark, with the progress to record in the same transaction.
struct BackfillChunk: Sendable, Equatable {
    var source: Int
    /// Rows in staged-column order.
    var rows: [[TupleValue]]
    /// The high watermark's position.
    var lsn: LSN
    /// What the chunk records in `walbridge.backfill`.
    var progress: ChunkProgress
}
