import PGClient

/// Reads and writes `walbridge.backfill` in the target.
enum BackfillState {
    /// The table's job if it is to be copied now: one being copied resumes; a pending one (requested by
    /// `walbridge backfill`, or any table not yet seen when `auto`) starts from its first row; nil when done or
    /// skipped.
    static func claim(
        slot: String, table: TableName, auto: Bool, on target: PGConnection
    ) async throws -> BackfillJob? {
        if auto {
            try await target.query("""
                INSERT INTO walbridge.backfill (slot, source_table, state) VALUES ($1, $2, 'pending')
                ON CONFLICT (slot, source_table) DO NOTHING
                """, [slot, table.description])
        }
        let row = try await target.query("""
            UPDATE walbridge.backfill SET state = 'copying', \
            started_at = coalesce(started_at, now()), updated_at = now()
            WHERE slot = $1 AND source_table = $2 AND state <> 'done'
            RETURNING request, last_key::text
            """, [slot, table.description]).rows.first
        guard let row, let request = row[0].flatMap({ Int($0) }) else { return nil }
        return BackfillJob(request: request, lastKey: row[1].map(TextArray.parse))
    }

    /// Records the source's row estimate (`pg_class.reltuples`) for a table being copied.
    static func recordEstimate(_ estimate: Int, slot: String, table: TableName, on target: PGConnection) async throws {
        try await target.query(
            "UPDATE walbridge.backfill SET rows_estimated = $3 WHERE slot = $1 AND source_table = $2",
            [slot, table.description, String(estimate)])
    }

    /// The table's current request number (nil when its row is gone).
    static func currentRequest(slot: String, table: TableName, on target: PGConnection) async throws -> Int? {
        try await target.query(
            "SELECT request FROM walbridge.backfill WHERE slot = $1 AND source_table = $2", [slot, table.description]
        )
            .scalar.flatMap { Int($0) }
    }

    /// Records a chunk, in the transaction that writes its rows: the last key copied, and `done` after the last chunk.
    static func recordChunk(slot: String, _ progress: ChunkProgress) -> Statement {
        let (table, lastKey, rows, done) = (progress.table, progress.lastKey, progress.rows, progress.done)
        return Statement("""
            UPDATE walbridge.backfill SET state = $4, last_key = $5::text[], rows_copied = rows_copied + $6,
                finished_at = CASE WHEN $4 = 'done' THEN now() END, updated_at = now()
            WHERE slot = $1 AND source_table = $2 AND request = $3
            """,
            [
                slot, table.description, String(progress.request), (done ? BackfillPhase.done : .copying).rawValue,
                lastKey.map(TextArray.literal), String(rows)
            ])
    }

    /// Asks for a table to be copied again from its first row (by a running bridge now, or by the next
    /// `walbridge run`).
    static func requestAgain(slot: String, table: TableName, on target: PGConnection) async throws {
        try await target.query("""
            INSERT INTO walbridge.backfill (slot, source_table, state) VALUES ($1, $2, 'pending')
            ON CONFLICT (slot, source_table) DO UPDATE SET state = 'pending', request = walbridge.backfill.request + 1,
                last_key = NULL, rows_copied = 0, started_at = NULL, finished_at = NULL, updated_at = now()
            """, [slot, table.description])
    }

    /// The backfill progress of every table of the slot.
    static func progress(slot: String, on target: PGConnection) async throws -> [BackfillProgress] {
        try await target.query("""
            SELECT source_table, state, rows_copied, rows_estimated FROM walbridge.backfill \
            WHERE slot = $1 ORDER BY source_table
            """, [slot]).rows.map { row in
            BackfillProgress(
                table: row[0] ?? "", state: row[1].flatMap { BackfillPhase(rawValue: $0) } ?? .pending,
                rowsCopied: Int(row[2] ?? "") ?? 0, rowsEstimated: row[3].flatMap { Int($0) })
        }
    }

    /// How many tables of the slot have a backfill row.
    static func count(slot: String, on target: PGConnection) async throws -> Int {
        Int(
            try await target.query("SELECT count(*)::text FROM walbridge.backfill WHERE slot = $1", [slot]).scalar
                ?? "0") ?? 0
    }

    /// The tables of the slot whose backfill has not finished, by name; none when the target has no state schema.
    static func unfinished(slot: String, on target: PGConnection) async throws -> [String] {
        guard try await target.query("SELECT to_regclass('walbridge.backfill') IS NOT NULL").scalar == "t" else {
            return []
        }
        return try await target.query(
            "SELECT source_table FROM walbridge.backfill WHERE slot = $1 AND state <> 'done' ORDER BY 1", [slot]
        ).rows.compactMap { $0[0] }
    }
}
