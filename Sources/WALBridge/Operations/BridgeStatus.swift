import PGClient
import PGOutput

/// Everything `walbridge status` shows, read from the target's state schema and the source's slot, so it
/// answers whether or not a bridge is running.
public struct BridgeStatus: Sendable, Codable, Equatable {
    public var slot: String
    /// The state the bridge reported last, or `stopped` when it reported running but no bridge holds the slot.
    public var state: String
    public var error: String?
    public var paused: Bool
    public var pauseAtLSN: String?
    public var appliedLSN: String?
    public var sourceCommitTime: String?
    /// Source WAL not yet applied: from the applied LSN to the source's current position.
    public var lagBytes: Int64?
    /// Age of the last applied source commit while changes wait; 0 when caught up.
    public var lagSeconds: Double?
    public var deadLetters: Int
    public var backfill: [BackfillStatus]
    public var sourceSlot: SlotStatus
    /// Set when the slot retains more WAL than the configured warning threshold.
    public var retainedWALWarning: String?

    /// Reads the status of `configuration`'s bridge.
    public static func read(_ configuration: Configuration) async throws -> BridgeStatus {
        let slot = try await SourceCheck.connect(configuration.source).closing { try await SlotStatus.read(configuration.slot, on: $0) }
        return try await SourceCheck.connect(configuration.target, role: "target").closing { target in
            try await StateSchema.ensure(on: target)
            let progress = try await target.query("""
                SELECT applied_lsn::text, source_commit_time::text, extract(epoch FROM now() - source_commit_time)::float8::text
                FROM walbridge.progress WHERE slot = $1
                """, [configuration.slot]).rows.first
            let control = try await target.query("""
                SELECT state, error, paused::text, pause_at_lsn::text FROM walbridge.control WHERE slot = $1
                """, [configuration.slot]).rows.first
            let deadLetters = try await target.query(
                "SELECT count(*)::text FROM walbridge.dead_letters WHERE slot = $1 AND retried_at IS NULL", [configuration.slot]).scalar
            let backfill = try await BackfillRequest.progress(configuration.slot, on: target).map {
                BackfillStatus(table: $0.table, state: $0.state, rowsCopied: $0.rowsCopied, rowsEstimated: $0.rowsEstimated)
            }
            let applied = progress?[0] ?? nil
            var lagBytes: Int64?
            if let applied, let current = LSN(slot.currentLSN), let done = LSN(applied) {
                lagBytes = current > done ? Int64(current.rawValue - done.rawValue) : 0
            }
            var state = control?[0] ?? "stopped"
            let running = ["starting", "backfilling", "streaming"].contains(state)
            if running && !slot.active { state = "stopped" }
            if state == "streaming" && backfill.contains(where: { $0.state != "done" }) { state = "backfilling" }
            let age = (progress?[2] ?? nil).flatMap { Double($0) }
            var warning: String?
            if let limit = configuration.retainedWALWarningBytes, let retained = slot.retainedBytes, retained > limit {
                warning = "the slot retains \(retained) bytes of WAL on the source, over the warning threshold of \(limit)"
            }
            return BridgeStatus(
                slot: configuration.slot, state: state, error: state == "failed" ? control?[1] ?? nil : nil,
                paused: control?[2] == "true", pauseAtLSN: control?[3] ?? nil,
                appliedLSN: applied, sourceCommitTime: progress?[1] ?? nil,
                lagBytes: lagBytes, lagSeconds: lagBytes == 0 ? 0 : age,
                deadLetters: Int(deadLetters ?? "0") ?? 0, backfill: backfill, sourceSlot: slot, retainedWALWarning: warning)
        }
    }
}
