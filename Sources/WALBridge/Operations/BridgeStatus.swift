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
    public var backfill: [BackfillProgress]
    public var sourceSlot: SlotStatus
    /// Set when the slot retains more WAL than the configured warning threshold.
    public var retainedWALWarning: String?
    /// The last cut-over (`walbridge cutover`, `rollback`), nil before the first.
    public var cutover: SwitchRecord?
    /// Tables a cut-over's write fence refuses writes to now, with `(legacy)` or `(new)`.
    public var fenced: [String] = []
    /// With `reverse:`: the reverse direction's state and applied position (in the legacy database).
    public var reverseState: String?
    public var reverseAppliedLSN: String?
    /// What a cut-over, rollback or abort left unfinished, and the command that finishes it; nil when nothing is.
    public var unfinished: String?

    /// What the cut-over's record and the fences standing leave unfinished: a step under way, or a fence on the side
    /// the
    /// record says the application writes (so that no table takes its writes).
    static func unfinished(_ record: SwitchRecord?, legacyFenced: Bool, newFenced: Bool) -> String? {
        switch record?.phase {
        case .cuttingOver?: "run walbridge cutover again to go on, or cutover --abort to undo it"
        case .rollingBack?: "run walbridge rollback again to go on"
        case .switched? where newFenced:
            "the application writes the new schema, but the fence the last rollback left on the new tables stands: "
                + "run walbridge cutover again to lift it"
        case .aborted? where legacyFenced:
            "the application writes the legacy schema, but the fence of a cut-over that was undone stands on it: "
                + "run walbridge cutover --abort again to lift it"
        case nil where legacyFenced:
            "a write fence stands on the legacy tables with no cut-over recorded: slots/unfence.sql lifts it"
        default: nil
        }
    }

    /// Reads the status of `configuration`'s bridge.
    public static func read(_ configuration: Configuration) async throws -> BridgeStatus {
        let (slot, legacyFence, reverse) = try await SourceCheck.connect(configuration.source).closing { source in
            let slot = try await SlotStatus.read(configuration.slot, on: source)
            let fenced = try await WriteFence.fenced(slot: configuration.slot, on: source)
            guard configuration.reverse != nil, try await Control.exists(on: source) else {
                return (slot, fenced, nil as (String?, String?)?)
            }
            let state = try await Control.reported(slot: configuration.reverseSlot, on: source)?.state
            let applied = try await ProgressState.checkpoint(slot: configuration.reverseSlot, on: source)
            return (slot, fenced, (state, applied?.description))
        }
        return try await SourceCheck.connect(configuration.target, role: "target").closing { target in
            try await StateSchema.ensure(on: target)
            let progress = try await ProgressState.read(slot: configuration.slot, on: target)
            let control = try await Control.reported(slot: configuration.slot, on: target)
            let deadLetters = try await DeadLetters.pendingCount(slot: configuration.slot, on: target)
            let backfill = try await BackfillState.progress(slot: configuration.slot, on: target)
            let applied = progress?.appliedLSN
            var lagBytes: Int64?
            if let done = applied, let current = LSN(slot.currentLSN) {
                lagBytes = current > done ? Int64(current.rawValue - done.rawValue) : 0
            }
            var state = control?.state ?? "stopped"
            let running = ["starting", "backfilling", "streaming"].contains(state)
            if running && !slot.active { state = "stopped" }
            if state == "streaming" && backfill.contains(where: { $0.state != .done }) { state = "backfilling" }
            let age = progress?.sourceCommitAge
            var warning: String?
            if let limit = configuration.retainedWALWarningBytes, let retained = slot.retainedBytes, retained > limit {
                warning =
                    "the slot retains \(retained) bytes of WAL on the source, "
                    + "over the warning threshold of \(limit)"
            }
            let cutover = try await SwitchState.read(slot: configuration.slot, on: target)
            let newFence = try await WriteFence.fenced(slot: configuration.reverseSlot, on: target)
            var status = BridgeStatus(
                slot: configuration.slot, state: state, error: state == "failed" ? control?.error : nil,
                paused: control?.request.paused ?? false, pauseAtLSN: control?.request.atLSN?.description,
                appliedLSN: applied?.description, sourceCommitTime: progress?.sourceCommitTime,
                lagBytes: lagBytes, lagSeconds: lagBytes == 0 ? 0 : age,
                deadLetters: deadLetters, backfill: backfill, sourceSlot: slot, retainedWALWarning: warning)
            status.cutover = cutover
            status.fenced = legacyFence.map { "\($0) (legacy)" } + newFence.map { "\($0) (new)" }
            status.unfinished = unfinished(cutover, legacyFenced: !legacyFence.isEmpty, newFenced: !newFence.isEmpty)
            status.reverseState = reverse?.0
            status.reverseAppliedLSN = reverse?.1
            return status
        }
    }
}
