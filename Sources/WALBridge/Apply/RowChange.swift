import PGOutput

/// One row change of a mapped source table, with its values in staged-column order.
struct RowChange: Sendable, Equatable {
    /// What happened to the row.
    enum Kind: Sendable, Equatable { case insert, update, delete }

    var kind: Kind
    /// The new row (insert, update).
    var new: [TupleValue]?
    /// The old row as the source sent it (delete; update with a changed key or REPLICA IDENTITY FULL).
    var old: [TupleValue]?
    /// Whether `old` holds every column (REPLICA IDENTITY FULL) rather than only the key.
    var oldIsFull: Bool
    /// WAL position of the change.
    var lsn: LSN
}
