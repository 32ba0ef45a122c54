import PGOutput

/// The end of a source transaction, as the reader hands it to the applier.
struct TransactionEnd: Sendable, Equatable {
    var xid: UInt32
    var commitLSN: LSN
    /// The LSN just past the commit record; the checkpoint and the flush position reported to the source.
    var endLSN: LSN
    var commitTime: PGTimestamp?

    /// The checkpoint a target transaction ending with this one records.
    var checkpoint: Checkpoint {
        Checkpoint(commitLSN: commitLSN, endLSN: endLSN, commitTime: commitTime)
    }
}
