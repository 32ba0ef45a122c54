import PGOutput

/// One committed change as `tail` shows it: what happened, to which table, with which values.
public struct ChangeEvent: Sendable, Equatable {
    /// The kind of change.
    public enum Operation: String, Sendable {
        case insert, update, delete, truncate, message
    }

    /// WAL position of the change.
    public var lsn: LSN
    /// Source transaction id; nil for a non-transactional logical message.
    public var xid: UInt32?
    /// Commit time of the source transaction; nil for a non-transactional logical message.
    public var commitTime: PGTimestamp?
    public var operation: Operation
    /// The table changed (nil for a logical message).
    public var relation: Relation?
    /// New row values, in the relation's column order.
    public var new: [TupleValue]?
    /// The old row: key columns (`K`) or the whole row (`O`, REPLICA IDENTITY FULL).
    public var old: OldTuple?
    /// For a truncate: whether it cascaded and restarted identities.
    public var cascade = false
    public var restartIdentity = false
    /// For a logical message: its prefix, content and whether it was transactional.
    public var message: LogicalMessage?
}
