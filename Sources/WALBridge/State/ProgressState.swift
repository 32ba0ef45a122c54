import PGClient
import PGOutput

/// Reads and writes `walbridge.progress` in the target: per slot, the end of the last source transaction applied.
enum ProgressState {
    /// The checkpoint stored for `slot`: the end LSN of the last applied source transaction.
    static func checkpoint(slot: String, on target: PGConnection) async throws -> LSN? {
        let value = try await target.query("SELECT applied_lsn::text FROM walbridge.progress WHERE slot = $1", [slot])
            .scalar
        return value.flatMap { LSN($0) }
    }

    /// The row of `slot`, nil before the bridge applied anything.
    static func read(slot: String, on target: PGConnection) async throws -> SlotProgress? {
        let row = try await target.query("""
            SELECT applied_lsn::text, applied_commit_lsn::text, source_commit_time::text, updated_at::text,
                   extract(epoch FROM now() - source_commit_time)::float8::text
            FROM walbridge.progress WHERE slot = $1
            """, [slot]).rows.first
        guard let row, let applied = row[0].flatMap({ LSN($0) }) else { return nil }
        return SlotProgress(
            appliedLSN: applied, appliedCommitLSN: row[1].flatMap { LSN($0) }, sourceCommitTime: row[2] ?? nil,
            updatedAt: row[3] ?? "", sourceCommitAge: row[4].flatMap { Double($0) })
    }

    /// Moves the checkpoint to `lsn` with nothing applied: the source sent nothing mapped before it.
    static func recordIdle(slot: String, lsn: LSN) -> Statement {
        Statement("""
            INSERT INTO walbridge.progress (slot, applied_lsn) VALUES ($1, $2::pg_lsn)
            ON CONFLICT (slot) DO UPDATE SET applied_lsn = EXCLUDED.applied_lsn, updated_at = now()
            WHERE walbridge.progress.applied_lsn < EXCLUDED.applied_lsn
            """, [slot, lsn.description])
    }

    /// The statement that records the checkpoint inside the batch's own transaction, with the commit position of its
    /// last source transaction; without a commit time (a backfill chunk between transactions) the stored one stays.
    static func recordCheckpoint(slot: String, _ checkpoint: Checkpoint) -> Statement {
        let (lsn, commitLSN, commitTime) = (checkpoint.endLSN, checkpoint.commitLSN, checkpoint.commitTime)
        return Statement("""
            INSERT INTO walbridge.progress (slot, applied_lsn, applied_commit_lsn, source_commit_time, updated_at)
            VALUES ($1, $2::pg_lsn, $3::pg_lsn, $4::timestamptz, now())
            ON CONFLICT (slot) DO UPDATE SET applied_lsn = EXCLUDED.applied_lsn, \
            applied_commit_lsn = EXCLUDED.applied_commit_lsn,
                source_commit_time = coalesce(EXCLUDED.source_commit_time, \
            walbridge.progress.source_commit_time), updated_at = now()
            """, [slot, lsn.description, commitLSN.description, commitTime?.iso8601])
    }

    /// Waits (`walbridge.wait_for_lsn`) up to `seconds` until the bridge of `slot` has applied the source up to `lsn`;
    /// false when it has not by then.
    static func waitFor(lsn: String, seconds: Int, slot: String, on target: PGConnection) async throws -> Bool {
        try await target.query(
            "SELECT walbridge.wait_for_lsn($1::pg_lsn, make_interval(secs => $2::int), $3)::text",
            [lsn, String(seconds), slot]
        ).scalar == "true"
    }

    /// Removes the checkpoint of `slot`, whose slot is dropped (the reverse direction's, at a rollback).
    static func forget(slot: String, on target: PGConnection) async throws {
        try await target.query("DELETE FROM walbridge.progress WHERE slot = $1", [slot])
    }
}
