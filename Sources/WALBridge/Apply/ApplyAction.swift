import PGOutput

/// What the apply state machine asks its driver to do on the target, in order; the driver performs each and stops at
/// the first that fails.
enum ApplyAction: Sendable, Equatable {
    /// Opens the target transaction (marked as the bridge's own where the target is the source).
    case begin
    /// Waits until the source shows these transactions to other sessions (in place, before updates look for their
    /// rows).
    case waitUntilVisible([UInt32])
    /// Writes a slice of folded rows and leaves it in flight while the next changes are folded.
    case write(Slice)
    /// Records the checkpoint and commits, after the slice in flight, and leaves the COMMIT in flight.
    case commit(Commit)
    /// Waits for the work in flight, surfacing its error.
    case settle
    /// Waits for the work in flight ignoring its error (a COMMIT in flight that succeeds still counts), then rolls back
    /// the open transaction if `rollback`.
    case abandon(rollback: Bool)
    /// Records `lsn` in `walbridge.progress` in a transaction of its own: a point with nothing to apply.
    case recordQuiet(LSN)
    /// Records `lsn` in `walbridge.progress` on a session of its own: the apply session holds a streamed transaction
    /// open, and every transaction that committed before `lsn` is applied.
    case recordAside(LSN)
    /// Reports `lsn` to the source: the target durably holds everything before it.
    case advance(LSN)
    /// Empties targets inside the open transaction: a TRUNCATE each, or with `on_delete: clear` an UPDATE clearing the
    /// entry's columns.
    case truncate([String])
    /// Writes a backfill chunk on the chunk sessions (everything before it is committed).
    case writeChunk(BackfillChunk)
    /// A backfill chunk's rows were taken (the worker may read ahead by one more).
    case tookChunk(BackfillChunk)
    /// Applies one change alone inside the open transaction (ordered replay); a rejection stops the bridge, or with
    /// `on_error: dead_letter` goes to `walbridge.dead_letters`.
    case applyOne(source: Int, RowChange, visible: [UInt32], chunkRow: Bool = false)
    /// Ordered replay went past the change at fault: batched apply again from here.
    case orderedReplayDone(LSN)
    /// Stops the bridge with this error (a TRUNCATE the mapping stops on).
    case fail(BridgeError)

    /// Folded rows per source table, written set-based.
    struct Slice: Sendable, Equatable {
        /// Source table (plan index) and its folded rows, in first-seen order of the tables.
        var rows: [Source]
        /// Transactions a row read back from the source must see.
        var visible: [UInt32]
        /// Inside a streamed transaction, which the source has not committed yet.
        var streamed: Bool

        /// One source table's folded rows.
        struct Source: Sendable, Equatable {
            var source: Int
            var rows: [FoldedRow]
        }
    }

    /// The end of a target transaction: its checkpoint, what it commits with, and what it counted.
    struct Commit: Sendable, Equatable {
        /// The source position the batch ends at.
        var checkpoint: Checkpoint
        /// Backfill chunks whose progress commits with it.
        var chunks: [ChunkProgress]
        /// Changes in the batch.
        var rows: Int
        /// Changes per source table and kind, for the metrics.
        var counts: [Int: [RowChange.Kind: Int]]
        /// When the target transaction began.
        var started: ContinuousClock.Instant
    }
}
