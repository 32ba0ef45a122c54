import PGClient

/// Reads and writes `walbridge.switch` in the forward direction's target: per slot, the cut-over's phase and step.
enum SwitchState {
    /// The record of `slot`, nil before the first cut-over.
    static func read(slot: String, on target: PGConnection) async throws -> SwitchRecord? {
        let row = try await target.query("""
            SELECT phase, step, fence, reverse::text, fence_lsn::text, fenced_at::text, switched_at::text, unavailable_ms::text,
                   rollback_lsn::text, rolled_back_at::text, updated_at::text
            FROM walbridge.switch WHERE slot = $1
            """, [slot]).rows.first
        guard let row, let phase = row[0].flatMap({ SwitchPhase(rawValue: $0) }) else { return nil }
        return SwitchRecord(
            phase: phase, step: row[1] ?? "", fence: row[2] ?? "", reverse: row[3] == "true", fenceLSN: row[4] ?? nil,
            fencedAt: row[5] ?? nil, switchedAt: row[6] ?? nil, unavailableMilliseconds: row[7].flatMap { Double($0) },
            rollbackLSN: row[8] ?? nil, rolledBackAt: row[9] ?? nil, updatedAt: row[10] ?? "")
    }

    /// Starts a cut-over: the phase is `cutting_over` at step `started`, everything of an earlier one cleared.
    static func begin(slot: String, fence: String, reverse: Bool, on target: PGConnection) async throws {
        try await target.query("""
            INSERT INTO walbridge.switch (slot, phase, step, fence, reverse) VALUES ($1, 'cutting_over', 'started', $2, $3::boolean)
            ON CONFLICT (slot) DO UPDATE SET phase = 'cutting_over', step = 'started', fence = EXCLUDED.fence, reverse = EXCLUDED.reverse,
                fence_lsn = NULL, fenced_at = NULL, switched_at = NULL, unavailable_ms = NULL, rollback_lsn = NULL, rolled_back_at = NULL,
                updated_at = now()
            """, [slot, fence, String(reverse)])
    }

    /// Records `step` within the current phase.
    static func record(step: String, slot: String, on target: PGConnection) async throws {
        try await target.query("UPDATE walbridge.switch SET step = $2, updated_at = now() WHERE slot = $1", [slot, step])
    }

    /// Records the fence: its LSN on the source and when the first write was refused (or queued).
    static func recordFence(lsn: String, at fencedAt: String, slot: String, on target: PGConnection) async throws {
        try await target.query("""
            UPDATE walbridge.switch SET step = 'fenced', fence_lsn = $2::pg_lsn, fenced_at = $3::timestamptz, updated_at = now() WHERE slot = $1
            """, [slot, lsn, fencedAt])
    }

    /// Records the switch, with the write-unavailable window the command measured (nil when it resumed after a crash);
    /// false when the cut-over is no longer under way (an abort ended it meanwhile).
    static func recordSwitch(unavailableMilliseconds: Double?, slot: String, on target: PGConnection) async throws -> Bool {
        try await target.query("""
            UPDATE walbridge.switch SET phase = 'switched', step = 'switched', switched_at = clock_timestamp(),
                unavailable_ms = $2::float8, updated_at = now()
            WHERE slot = $1 AND phase = 'cutting_over' RETURNING 1
            """, [slot, unavailableMilliseconds.map { String($0) }]).scalar != nil
    }

    /// Marks a cut-over under way aborted; false when none is (it switched meanwhile).
    static func abort(slot: String, on target: PGConnection) async throws -> Bool {
        try await target.query("""
            UPDATE walbridge.switch SET phase = 'aborted', step = 'aborting', updated_at = now() WHERE slot = $1 AND phase = 'cutting_over' RETURNING 1
            """, [slot]).scalar != nil
    }

    /// Sets the phase (and step), for the rollback's and the abort's steps.
    static func record(phase: SwitchPhase, step: String, slot: String, on target: PGConnection) async throws {
        try await target.query("""
            UPDATE walbridge.switch SET phase = $2, step = $3, updated_at = now(),
                rolled_back_at = CASE WHEN $2 = 'rolled_back' THEN now() ELSE rolled_back_at END
            WHERE slot = $1
            """, [slot, phase.rawValue, step])
    }

    /// Records the reverse direction's drain position at the rollback.
    static func recordRollbackLSN(_ lsn: String, slot: String, on target: PGConnection) async throws {
        try await target.query("UPDATE walbridge.switch SET rollback_lsn = $2::pg_lsn, updated_at = now() WHERE slot = $1", [slot, lsn])
    }
}
