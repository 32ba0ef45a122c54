import PGClient
import PGOutput

/// Reads and writes `walbridge.control` in the target: the pause an operator asked for, the state a bridge reports.
enum Control {
    /// Whether the target has the control table (the bridge has run against it).
    static func exists(on target: PGConnection) async throws -> Bool {
        try await target.query("SELECT to_regclass('walbridge.control') IS NOT NULL").scalar == "t"
    }

    /// The pause asked of `slot`'s bridge.
    static func request(slot: String, on target: PGConnection) async throws -> PauseRequest {
        let row = try await target.query(
            "SELECT paused::text, pause_at_lsn::text FROM walbridge.control WHERE slot = $1", [slot]
        ).rows.first
        guard let row else { return .none }
        return PauseRequest(paused: row[0] == "true", atLSN: row[1].flatMap { LSN($0) })
    }

    /// What the bridge of `slot` reported last: its state and error, the position it stopped at (paused at an LSN),
    /// the other direction's slot it marks its writes for; and the pause asked of it. Nil before it reported.
    static func reported(
        slot: String, on target: PGConnection
    ) async throws -> (state: String?, error: String?, request: PauseRequest, stoppedAt: LSN?, partner: String?)? {
        let row = try await target.query("""
            SELECT state, error, paused::text, pause_at_lsn::text, stopped_at::text, \
            partner_slot FROM walbridge.control WHERE slot = $1
            """, [slot]).rows.first
        guard let row else { return nil }
        return (
            row[0] ?? nil, row[1] ?? nil, PauseRequest(paused: row[2] == "true", atLSN: row[3].flatMap { LSN($0) }),
            row[4].flatMap { LSN($0) }, row[5] ?? nil
        )
    }

    /// Asks the bridge of `slot` to pause now (at its next source transaction boundary) or after `lsn`. With `lsn`, it
    /// is exact: the row lock taken here serialises with the check every batch makes before its COMMIT, so once this
    /// returns no transaction committing after `lsn` reaches the target; it throws `BridgeError.pastStop` (asking
    /// nothing) when the bridge has already applied one.
    static func pause(slot: String, at lsn: LSN?, on target: PGConnection) async throws {
        try await target.query("BEGIN")
        do {
            try await target.query("""
                INSERT INTO walbridge.control (slot, paused, pause_at_lsn) VALUES ($1, true, $2::pg_lsn)
                ON CONFLICT (slot) DO UPDATE SET paused = true, pause_at_lsn = EXCLUDED.pause_at_lsn, updated_at = now()
                """, [slot, lsn?.description])
            if let lsn, let applied = try await ProgressState.read(slot: slot, on: target)?.appliedCommitLSN,
                applied > lsn {
                throw BridgeError.pastStop(slot: slot, stop: WALPosition(lsn), applied: WALPosition(applied))
            }
            try await target.query("COMMIT")
        } catch {
            _ = try? await target.simpleQuery("ROLLBACK")
            throw error
        }
    }

    /// Asks the bridge of `slot` to pause, unless its row exists already (a pause or resume asked before stays).
    static func pauseIfNew(slot: String, on target: PGConnection) async throws {
        try await target.query(
            "INSERT INTO walbridge.control (slot, paused) VALUES ($1, true) ON CONFLICT (slot) DO NOTHING", [slot])
    }

    /// Lets the bridge of `slot` go on from where it paused.
    static func resume(slot: String, on target: PGConnection) async throws {
        try await target.query("""
            INSERT INTO walbridge.control (slot, paused) VALUES ($1, false)
            ON CONFLICT (slot) DO UPDATE SET paused = false, pause_at_lsn = NULL, updated_at = now()
            """, [slot])
    }

    /// Records the state the bridge of `slot` is in: the error it failed with, the position it stopped at when paused
    /// at an LSN, and the slot of the other direction it marks its writes for.
    static func report(
        _ state: BridgeState, error: String? = nil, stoppedAt: LSN? = nil, partner: String?, slot: String, pid: Int32,
        on target: PGConnection
    ) async throws {
        try await target.query("""
            INSERT INTO walbridge.control (slot, state, error, pid, stopped_at, partner_slot) VALUES ($1, \
            $2, $3, $4::int, $5::pg_lsn, $6)
            ON CONFLICT (slot) DO UPDATE SET state = EXCLUDED.state, error = EXCLUDED.error, pid = EXCLUDED.pid,
                stopped_at = EXCLUDED.stopped_at, partner_slot = EXCLUDED.partner_slot, updated_at = now()
            """, [slot, state.rawValue, error, String(pid), stoppedAt?.description, partner])
    }

    /// Fails the batch's transaction (SQLSTATE `WBS01`) when a pause at an LSN before `commitLSN` was asked; it runs
    /// before COMMIT and locks the control row, so it serialises with `Control.pause`.
    static func checkStop(slot: String, commitLSN: LSN) -> Statement {
        Statement("SELECT walbridge.check_stop($1, $2::pg_lsn)", [slot, commitLSN.description])
    }

    /// SQLSTATE of `check_stop`'s failure.
    static let stopRequested = "WBS01"
}
