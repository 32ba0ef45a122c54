import PGClient
import PGOutput

/// The end of a source transaction, as the applier needs it for its checkpoint.
struct TransactionEnd: Sendable, Equatable {
    var xid: UInt32
    var commitLSN: LSN
    /// The LSN just past the commit record; the checkpoint and the flush position reported to the source.
    var endLSN: LSN
    /// Nil for a backfill chunk, which sits between transactions.
    var commitTime: PGTimestamp?
}
