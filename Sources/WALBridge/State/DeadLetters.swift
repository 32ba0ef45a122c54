import PGClient
import PGOutput

/// The dead-letter table: changes the target rejected under `on_error: dead_letter`, with their payload.
enum DeadLetters {
    /// Records a rejected change inside the current target transaction.
    static func record(_ rejected: RejectedChange, change: RowChange, plan: SourcePlan, slot: String, on target: PGConnection) async throws {
        let names = plan.stagedColumns.map(\.name)
        var key = JSONText()
        key.raw("{")
        for (n, index) in plan.rowKey.enumerated() {
            key.key(names[index], first: n == 0)
            json(value: (change.new ?? change.old ?? [])[safe: index], into: &key)
        }
        key.raw("}")
        var row = JSONText()
        row.raw("{")
        var first = true
        for (label, values) in [("new", change.new), ("old", change.old)] {
            guard let values else { continue }
            row.key(label, first: first)
            first = false
            row.raw("{")
            for (index, name) in names.enumerated() {
                row.key(name, first: index == 0)
                json(value: values[safe: index], into: &row)
            }
            row.raw("}")
        }
        row.key("old_is_full", first: first)
        row.raw(String(change.oldIsFull))
        row.raw("}")
        try await target.query("""
            INSERT INTO walbridge.dead_letters (slot, lsn, source_table, target_table, operation, key, row_data, sqlstate, error)
            VALUES ($1, $2::pg_lsn, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9)
            """, [slot, rejected.lsn.description, rejected.sourceTable.description, rejected.targetTable?.description,
                  rejected.operation, key.text, row.text, rejected.sqlState, rejected.message])
    }

    private static func json(value: TupleValue?, into out: inout JSONText) {
        switch value {
        case .text(let bytes)?: out.string(String(decoding: bytes, as: UTF8.self))
        case .unchangedToast?: out.raw("{\"unchanged_toast\":true}")
        default: out.raw("null")
        }
    }
}
