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
    /// a value the update did not send is taken from an earlier change in the batch, or from a full old row.
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
                } else if change.oldIsFull, let old = change.old, index < old.count, old[index] != .unchangedToast {
                    new[index] = old[index]
                }
            }
            let moved = oldKey != RowKey(new, at: rowKey)
            if moved, let old = change.old {
                set(FoldedRow(operation: .delete, moved: true, values: old, lsn: change.lsn))
            } else if change.oldIsFull, let old = change.old, targetKeyColumns.contains(where: { $0 < old.count && old[$0] != new[$0] }) {
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

/// Row-key values as a dictionary key, hashed over their raw bytes (much cheaper than hashing the enum values one
/// by one); the first value is held inline, so a single-column key allocates nothing.
struct RowKey: Hashable, Sendable {
    private let first: TupleValue
    private let rest: [TupleValue]

    /// The key of `values` made of the values at `positions` (NULL past the end).
    init(_ values: [TupleValue], at positions: [Int]) {
        func value(_ position: Int) -> TupleValue { position < values.count ? values[position] : .null }
        first = positions.first.map(value) ?? .null
        rest = positions.count > 1 ? positions.dropFirst().map(value) : []
    }

    func hash(into hasher: inout Hasher) {
        Self.combine(first, into: &hasher)
        for value in rest {
            Self.combine(value, into: &hasher)
        }
    }

    private static func combine(_ value: TupleValue, into hasher: inout Hasher) {
        switch value {
        case .null: hasher.combine(0 as UInt8)
        case .unchangedToast: hasher.combine(1 as UInt8)
        case .text(let bytes), .binary(let bytes):
            hasher.combine(bytes.count)
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }
}
