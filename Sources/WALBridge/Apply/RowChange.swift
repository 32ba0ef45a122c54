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

extension RowChange {
    /// The bytes its values hold, old and new.
    var byteCount: Int {
        (new ?? []).reduce(0) { $0 + $1.byteCount } + (old ?? []).reduce(0) { $0 + $1.byteCount }
    }
}

extension TupleValue {
    /// The bytes of the value (0 for NULL and an unchanged TOASTed value).
    var byteCount: Int {
        switch self {
        case .null, .unchangedToast: 0
        case .text(let bytes), .binary(let bytes): bytes.count
        }
    }
}
