import PGClient
import PGOutput

/// The replication slot as the source sees it.
public struct SlotStatus: Sendable, Codable, Equatable {
    public var exists: Bool
    public var active: Bool
    /// The walsender's pid while a bridge is attached.
    public var activePID: Int?
    public var confirmedFlushLSN: String?
    public var restartLSN: String?
    /// WAL the source keeps for the slot, from its restart LSN to the current position.
    public var retainedBytes: Int64?
    /// `reserved`, `extended`, `unreserved` or `lost`.
    public var walStatus: String?
    /// The source's `max_slot_wal_keep_size` (`-1`: unlimited).
    public var maxSlotWALKeepSize: String
    /// The source's current WAL position.
    public var currentLSN: String

    /// Reads the slot's row in `pg_replication_slots`.
    static func read(_ slot: String, on source: PGConnection) async throws -> SlotStatus {
        let current = try await source.query(
            "SELECT pg_current_wal_lsn()::text, current_setting('max_slot_wal_keep_size')"
        ).rows[0]
        var status = SlotStatus(
            exists: false, active: false, maxSlotWALKeepSize: current[1] ?? "", currentLSN: current[0] ?? "")
        let row = try await source.query("""
            SELECT active::text, active_pid::text, confirmed_flush_lsn::text, restart_lsn::text,
                   pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint::text, wal_status
            FROM pg_replication_slots WHERE slot_name = $1
            """, [slot]).rows.first
        guard let row else { return status }
        status.exists = true
        status.active = row[0] == "true"
        status.activePID = row[1].flatMap { Int($0) }
        status.confirmedFlushLSN = row[2] ?? nil
        status.restartLSN = row[3] ?? nil
        status.retainedBytes = row[4].flatMap { Int64($0) }
        status.walStatus = row[5] ?? nil
        return status
    }
}
