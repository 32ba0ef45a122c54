import PGClient
import PGOutput

/// What the reader hands the applier, in source commit order.
enum ApplyEvent: Sendable, Equatable {
    /// A source transaction sent whole, after its commit, starts: what reads its rows back waits until the source shows
    /// it.
    case begin(xid: UInt32)
    /// A change to the source table at `source` (an index into the plan).
    case change(source: Int, RowChange)
    /// The source tables at these plan indices were truncated (by one statement; `RESTART IDENTITY` if it said so).
    case truncate(sources: [Int], lsn: LSN, restartIdentity: Bool = false)
    /// A source transaction ended; one with no changes (skipped, or the bridge's own) only moves the position.
    case commit(TransactionEnd)
    /// Between transactions, the source has sent everything up to this position.
    case idle(LSN)
    /// A large transaction starts arriving in chunks before its commit.
    case streamStart
    /// A backfill chunk's window closed here (from the reader; the bridge turns it into `backfill` or drops it).
    case backfillWindow(BackfillWindow)
    /// Rows of a backfill chunk to write at this point of the stream, as one more transaction.
    case backfill(BackfillChunk)
}

extension ApplyEvent {
    /// Whether this is a closed backfill window still to be resolved.
    var isBackfillWindow: Bool {
        if case .backfillWindow = self { true } else { false }
    }
}
