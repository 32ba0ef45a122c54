import PGOutput

/// Folds a sequence of changes to one source table into one final state per row key, in first-seen order.
struct RowFolder: Sendable {
    let rowKey: [Int]
    /// Columns outside the row key that some target's key reads: an update of one (seen through a full old row)
    /// moves that target's row.
    let targetKeyColumns: [Int]
    private(set) var rows: [FoldedRow] = []
    private var position: [RowKey: Int] = [:]

    /// A folder that identifies rows by the values at `rowKey`, sized for about `capacity` rows.
    init(rowKey: [Int], targetKeyColumns: [Int] = [], capacity: Int = 0) {
        self.rowKey = rowKey
        self.targetKeyColumns = targetKeyColumns
        rows.reserveCapacity(capacity)
        position.reserveCapacity(capacity)
    }

    /// A folder for one source table of the plan.
    init(_ plan: SourcePlan, capacity: Int = 0) {
        self.init(rowKey: plan.rowKey, targetKeyColumns: plan.targetKeyColumns, capacity: capacity)
    }

    /// Folds one change in. An update that changes the key deletes the old key and upserts the new one;
    /// a value the update did not send is taken from an earlier change in the batch, from a full old row, or,
    /// for a row-key column, from the old key tuple.
    mutating func fold(_ change: RowChange) {
        switch change.kind {
        case .insert:
            guard let new = change.new else { return }
            set(FoldedRow(operation: .upsert, values: new, lsn: change.lsn), insert: true)
        case .update:
            guard var new = change.new else { return }
            let oldKey = RowKey(change.old ?? new, at: rowKey)
            let prior = position[oldKey].map { rows[$0] }
            for index in new.indices where new[index] == .unchangedToast {
                if let prior, prior.operation == .upsert, prior.values[index] != .unchangedToast {
                    new[index] = prior.values[index]
                } else if let old = change.old, change.oldIsFull || rowKey.contains(index),
                          index < old.count, old[index] != .unchangedToast {
                    // A full old row holds every column; an old key tuple holds the identity's, detoasted.
                    new[index] = old[index]
                }
            }
            let moved = oldKey != RowKey(new, at: rowKey)
            if moved, let old = change.old {
                set(FoldedRow(operation: .delete, moved: true, values: old, lsn: change.lsn))
            } else if change.oldIsFull, let old = change.old,
                targetKeyColumns.contains(where: { $0 < old.count && old[$0] != new[$0] }) {
                // Not registered under a key: the row keeps its row key, only some target's key moved.
                rows.append(FoldedRow(operation: .delete, rekeyed: true, values: old, lsn: change.lsn))
            }
            var row = FoldedRow(operation: .upsert, values: new, lsn: change.lsn)
            row.movedIn = (moved || (prior?.movedIn ?? false)) && row.hasUnchanged
            set(row)
        case .delete:
            guard let old = change.old else { return }
            if let index = position[RowKey(old, at: rowKey)], rows[index].operation == .upsert {
                set(FoldedRow(operation: .delete, deletedAfterWrite: true, values: rows[index].values, lsn: change.lsn))
            } else {
                set(FoldedRow(operation: .delete, values: old, lsn: change.lsn))
            }
        }
    }

    /// Sets a row's state; a row first seen through an insert stays fresh through later changes.
    private mutating func set(_ row: FoldedRow, insert: Bool = false) {
        var row = row
        let key = RowKey(row.values, at: rowKey)
        // One hash for a new row (the common case); a row seen before gets its first position back.
        if let index = position.updateValue(rows.count, forKey: key) {
            position[key] = index
            let replaced = rows[index]
            // A new row at a deleted row's key: the delete still applies to the targets keyed outside the row key
            // wherever the two rows' keys there differ.
            if replaced.operation == .delete && row.operation == .upsert,
               targetKeyColumns.contains(where: { $0 < row.values.count && replaced.values[$0] != row.values[$0] }) {
                var delete = replaced
                // A key change deletes its old key whatever on_delete says; a source delete follows on_delete.
                if replaced.moved { delete.rekeyed = true } else { delete.displaced = true }
                rows.append(delete)
            }
            row.fresh = replaced.fresh
            rows[index] = row
        } else {
            row.fresh = insert
            rows.append(row)
        }
    }

    /// The row-key values of a tuple.
    func key(_ values: [TupleValue]) -> [TupleValue] {
        rowKey.map { $0 < values.count ? values[$0] : .null }
    }
}
