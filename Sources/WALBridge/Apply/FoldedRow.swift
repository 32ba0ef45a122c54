import PGOutput

/// A row's final state within a batch, after every change to it has been folded in.
struct FoldedRow: Sendable, Equatable {
    /// Upsert the values, or delete the row they identify.
    enum Operation: Sendable, Equatable { case upsert, delete }

    var operation: Operation
    /// The row's first change in the batch was an insert: it did not exist before, so the target cannot hold it yet.
    var fresh = false
    /// A delete that an update changing the key left at the old key: applied whatever `on_delete` says.
    var moved = false
    /// A delete of a row written earlier in the batch: it carries that write's values, which a target with
    /// `on_delete: ignore` keeps.
    var deletedAfterWrite = false
    /// A delete at the old values of a row whose update changed a target key outside the row key (REPLICA IDENTITY
    /// FULL): applied to the targets keyed on such columns.
    var rekeyed = false
    /// An upsert of a row that an update moved to this key without sending some values: the target row at this key
    /// (if any) is another row's, so the values left out must be read from the source.
    var movedIn = false
    /// A source delete whose row key a new row took in the batch: applied to the targets keyed outside the row key
    /// that delete rows (`on_delete: delete`), where the two rows' keys differ.
    var displaced = false
    /// Values in staged-column order; `.unchangedToast` where the source did not send the value.
    var values: [TupleValue]
    /// WAL position of the last change folded in.
    var lsn: LSN

    /// Positions of the values the source did not send.
    var unchanged: [Int] {
        values.indices.filter { values[$0] == .unchangedToast }
    }

    /// Whether the source left out any value (cheaper than `unchanged` when only that matters).
    var hasUnchanged: Bool {
        values.contains { if case .unchangedToast = $0 { true } else { false } }
    }

    /// Whether the values at `positions` include one the source sent and one it left out.
    func mixes(_ positions: [Int]) -> Bool {
        var sent = false, left = false
        for position in positions where position < values.count {
            if values[position] == .unchangedToast { left = true } else { sent = true }
            if sent && left { return true }
        }
        return false
    }
}
