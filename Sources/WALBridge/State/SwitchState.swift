import PGClient

/// Reads and writes `walbridge.switch` in the forward direction's target: per slot, the cut-over's phase and step.
enum SwitchState {
    /// The record of `slot`, nil before the first cut-over.
    static func read(slot: String, on target: PGConnection) async throws -> SwitchRecord? {
        let row = try await target.query("""
            SELECT phase, step, fence, reverse::text, fence_lsn::text, fenced_at::text, \
            switched_at::text, unavailable_ms::text,
                   rollback_lsn::text, rolled_back_at::text, updated_at::text, rollback_unavailable_ms::text
            FROM walbridge.switch WHERE slot = $1
            """, [slot]).rows.first
        guard let row, let phase = row[0].flatMap({ SwitchPhase(rawValue: $0) }) else { return nil }
        return SwitchRecord(
            phase: phase, step: row[1] ?? "", fence: row[2] ?? "", reverse: row[3] == "true", fenceLSN: row[4] ?? nil,
            fencedAt: row[5] ?? nil, switchedAt: row[6] ?? nil, unavailableMilliseconds: row[7].flatMap { Double($0) },
            rollbackLSN: row[8] ?? nil, rolledBackAt: row[9] ?? nil,
            rollbackUnavailableMilliseconds: row[11].flatMap { Double($0) },
            updatedAt: row[10] ?? "")
    }

    /// Starts a cut-over: the phase is `cutting_over` at step `started`, everything of an earlier one cleared.
    static func begin(slot: String, fence: String, reverse: Bool, on target: PGConnection) async throws {
        try await target.query("""
            INSERT INTO walbridge.switch (slot, phase, step, fence, reverse) VALUES ($1, \
            'cutting_over', 'started', $2, $3::boolean)
            ON CONFLICT (slot) DO UPDATE SET phase = 'cutting_over', step = 'started', \
            fence = EXCLUDED.fence, reverse = EXCLUDED.reverse,
                fence_lsn = NULL, fenced_at = NULL, switched_at = NULL, unavailable_ms = NULL, \
            rollback_lsn = NULL, rolled_back_at = NULL,
                rollback_fenced_at = NULL, rollback_unavailable_ms = NULL, updated_at = now()
            """, [slot, fence, String(reverse)])
    }

    /// Records `step` within the current phase.
    static func record(step: String, slot: String, on target: PGConnection) async throws {
        try await target.query(
            "UPDATE walbridge.switch SET step = $2, updated_at = now() WHERE slot = $1", [slot, step])
    }

    /// Records the fence: its LSN on the source and when the first write was refused (or queued); a cut-over that goes
    /// on after a kill keeps the first fence's time, since writes were refused from then on.
    static func recordFence(lsn: String, at fencedAt: String, slot: String, on target: PGConnection) async throws {
        try await target.query("""
            UPDATE walbridge.switch SET step = 'fenced', fence_lsn = $2::pg_lsn, \
            fenced_at = coalesce(fenced_at, $3::timestamptz),
                updated_at = now() WHERE slot = $1
            """, [slot, lsn, fencedAt])
    }

    /// Records the switch, with the write-unavailable window; false when the cut-over is no longer under way (an abort
    /// ended it meanwhile).
    static func recordSwitch(
        unavailableMilliseconds: Double, slot: String, on target: PGConnection
    ) async throws -> Bool {
        try await target.query("""
            UPDATE walbridge.switch SET phase = 'switched', step = 'switched', switched_at = clock_timestamp(),
                unavailable_ms = $2::float8, updated_at = now()
            WHERE slot = $1 AND phase = 'cutting_over' RETURNING 1
            """, [slot, String(unavailableMilliseconds)]).scalar != nil
    }

    /// Records when the rollback's fence on the new tables went up (the first time, if it goes on after a kill), by
    /// the new database's clock.
    static func recordRollbackFence(slot: String, on target: PGConnection) async throws {
        try await target.query(
            "UPDATE walbridge.switch SET rollback_fenced_at = coalesce(rollback_fenced_at, clock_timestamp()), "
                + "updated_at = now() WHERE slot = $1",
            [slot])
    }

    /// Records the legacy tables opening: the rollback's window runs from its fence to now.
    static func recordLegacyOpen(slot: String, on target: PGConnection) async throws {
        try await target.query("""
            UPDATE walbridge.switch SET phase = 'rolling_back', step = 'legacy open', updated_at = now(),
                rollback_unavailable_ms = extract(epoch FROM clock_timestamp() - rollback_fenced_at) * 1000
            WHERE slot = $1
            """, [slot])
    }

    /// Marks a cut-over under way aborted; false when none is (it switched meanwhile).
    static func abort(slot: String, on target: PGConnection) async throws -> Bool {
        try await target.query("""
            UPDATE walbridge.switch SET phase = 'aborted', step = 'aborting', updated_at = now() WHERE slot = $1 \
            AND phase = 'cutting_over' RETURNING 1
            """, [slot]).scalar != nil
    }

    /// Sets the phase (and step), for the rollback's and the abort's steps.
    static func record(phase: SwitchPhase, step: String, slot: String, on target: PGConnection) async throws {
        try await target.query("""
            UPDATE walbridge.switch SET phase = $2, step = $3, updated_at = now(),
                rolled_back_at = CASE WHEN $2 = 'rolled_back' THEN now() ELSE rolled_back_at END,
                rollback_fenced_at = CASE WHEN $2 = 'rolling_back' AND $3 = 'started' \
            THEN NULL ELSE rollback_fenced_at END,
                rollback_unavailable_ms = CASE WHEN $2 = 'rolling_back' AND $3 = 'started' \
            THEN NULL ELSE rollback_unavailable_ms END
            WHERE slot = $1
            """, [slot, phase.rawValue, step])
    }

    /// Records the reverse direction's drain position at the rollback.
    static func recordRollbackLSN(_ lsn: String, slot: String, on target: PGConnection) async throws {
        try await target.query(
            "UPDATE walbridge.switch SET rollback_lsn = $2::pg_lsn, updated_at = now() WHERE slot = $1", [slot, lsn])
    }
}
