/// One generated source transaction: the session that runs it, its place in that session's list, a label and its
/// statements.
struct Transaction: Sendable {
    var session: Int
    var index: Int
    var label: String
    var statements: [String]
    /// Runs by itself: the other sessions wait for it, so a streaming bridge sees no other commit while it is open
    /// (and, at a session's end, the bridge is restarted before it, since an earlier fallback turns streaming off).
    var alone = false
    /// At its `pg_sleep`, `walbridge backfill` asks the running bridge to copy every table again, while it is open.
    var backfillDuring = false
    /// With `backfillDuring`, the one table to copy again (`--table`), if not every one.
    var backfillTable: String?
    /// At the end (see `alone`), the bridge is stopped and started again just before it, so that it streams: a fallback
    /// in an earlier one turned streaming off in that process.
    var restartBefore = false

    /// The transaction as a script: BEGIN, the statements, COMMIT.
    var script: String {
        "BEGIN;  -- \(label)\n" + statements.map { $0 + ";\n" }.joined() + "COMMIT;\n"
    }
}

/// A signal sent to the bridge after session 0 has finished one of its transactions.
struct Fault: Sendable {
    /// Index in session 0's list after which the fault fires.
    var afterTransaction: Int
    /// SIGKILL or SIGTERM.
    var signal: Int32
    /// Milliseconds to wait before the signal, and before restarting the bridge.
    var delayMilliseconds: Int
    var restartMilliseconds: Int
}

/// One row inserted before the bridge starts: its key number and its `(…)` value tuple.
struct InitialRow: Sendable {
    var g: Int
    var tuple: String
}

/// Everything a case does to the source: the initial rows, each session's transactions and the faults.
struct Workload: Sendable {
    /// Per table, the rows inserted before the bridge starts.
    var initialRows: [[InitialRow]]
    var sessions: [[Transaction]]
    var faults: [Fault]
    /// Per table, the `(…)` tuples of the rows its inheriting table holds before the bridge starts, with keys of
    /// their own, which no mapping of the table carries.
    var inheritingRows: [[String]] = []

    /// Multi-row INSERTs of the initial rows, 50 rows a statement.
    func initialSQL(_ schema: Schema) -> [String] {
        var statements: [String] = []
        for (index, rows) in initialRows.enumerated() where !rows.isEmpty {
            let table = schema.tables[index]
            let columns = table.columns.map(\.sql).joined(separator: ", ")
            var start = 0
            while start < rows.count {
                let chunk = rows[start..<min(rows.count, start + 50)]
                statements.append(
                    "INSERT INTO \(table.sql) (\(columns)) "
                        + "VALUES\n  \(chunk.map(\.tuple).joined(separator: ",\n  "))")
                start += 50
            }
        }
        for (index, tuples) in inheritingRows.enumerated() where !tuples.isEmpty {
            let table = schema.tables[index]
            guard let child = table.inheritingChild else { continue }
            let columns = table.columns.map(\.sql).joined(separator: ", ")
            statements.append(
                "INSERT INTO \(SQLText.qualified(child)) (\(columns)) "
                    + "VALUES\n  \(tuples.joined(separator: ",\n  "))")
        }
        // Each referencing row gets a parent, picked by a hash of its key, once every table holds its rows.
        for table in schema.tables {
            guard let reference = table.reference else { continue }
            let parent = schema.tables[reference.parent]
            let key = parent.columns[parent.key[0]].sql
            statements.append("""
                UPDATE \(table.ownRows) AS c SET \(table.columns[reference.column].sql) = p.k
                FROM (SELECT \(key) AS k, row_number() OVER (ORDER BY \(key)) - 1 AS n, \
                count(*) OVER () AS total FROM \(parent.ownRows)) AS p
                WHERE p.n = abs(hashtext(c.\(table.columns[table.main].sql)::text)) % p.total
                """)
        }
        return statements
    }

    /// Every transaction of every session.
    var transactionCount: Int { sessions.reduce(0) { $0 + $1.count } }
}
