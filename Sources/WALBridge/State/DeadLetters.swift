import PGClient
import PGOutput

/// Reads and writes `walbridge.dead_letters` in the target: changes the target rejected under `on_error: dead_letter`,
/// with their payload.
enum DeadLetters {
    /// Records a rejected change inside the current target transaction.
    static func record(
        _ rejected: RejectedChange, change: RowChange, plan: SourcePlan, slot: String, on target: PGConnection
    ) async throws {
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
            INSERT INTO walbridge.dead_letters (slot, lsn, source_table, target_table, \
            operation, key, row_data, sqlstate, error)
            VALUES ($1, $2::pg_lsn, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9)
            """, [slot, rejected.lsn.description, rejected.sourceTable.description, rejected.targetTable?.description,
                  rejected.operation, key.text, row.text, rejected.sqlState, rejected.message])
    }

    /// The dead letters of `slot` not yet retried successfully, oldest first.
    static func list(slot: String, on target: PGConnection) async throws -> [DeadLetter] {
        try await target.query("""
            SELECT id, created_at::text, lsn::text, source_table, target_table, operation, key::text, sqlstate, error
            FROM walbridge.dead_letters WHERE slot = $1 AND retried_at IS NULL ORDER BY id
            """, [slot]).rows.map { row in
            DeadLetter(
                id: Int(row[0] ?? "") ?? 0, createdAt: row[1] ?? "", lsn: row[2] ?? "", sourceTable: row[3] ?? "",
                targetTable: row[4], operation: row[5] ?? "", key: row[6] ?? "{}", sqlState: row[7], error: row[8] ?? ""
            )
        }
    }

    /// How many dead letters `slot` has not yet retried successfully.
    static func pendingCount(slot: String, on target: PGConnection) async throws -> Int {
        Int(try await target.query(
                "SELECT count(*)::text FROM walbridge.dead_letters WHERE slot = $1 AND retried_at IS NULL", [slot]
            ).scalar ?? "0") ?? 0
    }

    /// How many dead letters `slot` has, retried or not.
    static func count(slot: String, on target: PGConnection) async throws -> Int {
        Int(
            try await target.query("SELECT count(*)::text FROM walbridge.dead_letters WHERE slot = $1", [slot]).scalar
                ?? "0") ?? 0
    }

    /// Marks a letter retried, in the transaction that re-applied its row.
    static func markRetried(id: Int) -> Statement {
        Statement("UPDATE walbridge.dead_letters SET retried_at = now() WHERE id = $1", [String(id)])
    }

    private static func json(value: TupleValue?, into out: inout JSONText) {
        switch value {
        case .text(let bytes)?: out.string(String(decoding: bytes, as: UTF8.self))
        case .unchangedToast?: out.raw("{\"unchanged_toast\":true}")
        default: out.raw("null")
        }
    }
}
