import PGOutput

/// One committed change as `tail` shows it: what happened, to which table, with which values.
public struct ChangeEvent: Sendable, Equatable {
    /// The kind of change.
    public enum Operation: String, Sendable {
        case insert, update, delete, truncate, message
    }

    /// WAL position of the change.
    var lsn: LSN
    /// Source transaction id; nil for a non-transactional logical message.
    public var xid: UInt32?
    /// Commit time of the source transaction; nil for a non-transactional logical message.
    var commitTime: PGTimestamp?
    public var operation: Operation
    /// The table changed (nil for a logical message).
    var relation: Relation?
    /// New row values, in the relation's column order.
    var new: [TupleValue]?
    /// The old row: key columns (`K`) or the whole row (`O`, REPLICA IDENTITY FULL).
    var old: OldTuple?
    /// For a truncate: whether it cascaded and restarted identities.
    public var cascade = false
    public var restartIdentity = false
    /// For a logical message: its prefix, content and whether it was transactional.
    var message: LogicalMessage?
}
