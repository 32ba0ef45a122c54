import Logging
import PGClient
import PGOutput

/// `walbridge rollback`: after a cut-over with reverse replication, fences the new tables, drains the reverse direction
/// to the LSN right after that fence, hands the legacy sequences over, lifts the legacy fence, resumes the forward
/// direction from where it paused, removes the reverse slot, and verifies. Each step is recorded in `walbridge.switch`,
/// so a killed command is run again and goes on.
public struct Rollback: Sendable {
    public let configuration: Configuration
    /// How the forward direction is verified at the end (`.skip`: not).
    public var verify: VerifyGate = .sample(1000)
    /// How long the new tables' fence may wait for their writers.
    public var lockTimeout: Duration = .seconds(5)
    /// How long the reverse direction's drain may take.
    public var drainTimeout: Duration = .seconds(60)
    /// Within how long the reverse direction must apply the new schema's current position before the new tables are
    /// fenced (a longer drain is a longer window without writes).
    public var maxLag: Duration = .seconds(5)
    /// Say what the rollback would do, and change nothing.
    public var dryRun = false
    public let say: @Sendable (String) -> Void
    /// Called the moment the legacy tables take writes again: an application embedding the rollback flips its writes
    /// here.
    public var onLegacyOpen: @Sendable () -> Void = {}

    public init(configuration: Configuration, say: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        self.say = say
    }

    /// Rolls back, or goes on with a rollback a killed command left; the outcome's record is `rolled_back`.
    public func run() async throws -> (CutoverOutcome, VerifyReport?) {
        try await CutoverSessions.with(configuration) { forward, reverse in
            let record = try await SwitchState.read(slot: configuration.slot, on: forward.target)
            if let record, record.phase == .rolledBack {
                say("Already rolled back at \(record.rolledBackAt ?? "?"); nothing to do.")
                return (.done(record), nil)
            }
            guard let record, [.switched, .rollingBack].contains(record.phase) else {
                return (
                    .refused([
                        "no cut-over has switched "
                            + "(\(record.map { "the last one is \($0.phase.rawValue)" } ?? "none began")); "
                            + "nothing to roll "
                            + "back\(record?.phase == .cuttingOver ? "; cutover --abort undoes one under way" : "")"
                    ]), nil
                )
            }
            guard record.reverse, let reverse else {
                return (
                    .refused([
                        "the cut-over at \(record.switchedAt ?? "?") ran without reverse replication, "
                            + "so the legacy tables lack what the application wrote to the new schema since; "
                            + "walbridge rollback needs cutover --reverse"
                    ]), nil
                )
            }
            if let waiting = try await deadLetters(reverse) { return (.refused([waiting]), nil) }
            if record.phase == .switched {
                if dryRun {
                    describe(reverse)
                    return (.dryRun, nil)
                }
                guard try await reverse.caughtUp(within: maxLag) else {
                    return (
                        .refused([
                            "the reverse direction (slot \(reverse.slot)) "
                                + "did not apply the new schema's current position within --max-lag \(maxLag), "
                                + "so the new tables would refuse writes while it drains; nothing changed. "
                                + "See walbridge status (reverse:), wait until it has caught up, or raise --max-lag"
                        ]), nil
                    )
                }
                try await SwitchState.record(
                    phase: .rollingBack, step: "started", slot: forward.slot, on: forward.target)
            } else if dryRun {
                say("A rollback is under way (step '\(record.step)'); walbridge rollback goes on with it.")
                return (.dryRun, nil)
            } else {
                say("Going on with the rollback left at step '\(record.step)'.")
            }
            try await steps(record, forward: forward, reverse: reverse)
            let report = try await verified(forward)
            return (.done(try await SwitchState.read(slot: forward.slot, on: forward.target) ?? record), report)
        }
    }

    private func steps(_ record: SwitchRecord, forward: Direction, reverse: Direction) async throws {
        let slot = forward.slot
        if !["legacy open", "reverse dropped"].contains(record.step) {
            do {
                try await drainReverse(forward: forward, reverse: reverse)
            } catch {
                throw await undo(after: error, forward: forward, reverse: reverse)
            }
            try await Direction.lift(slot: slot, on: forward.source)
            try await SwitchState.recordLegacyOpen(slot: slot, on: forward.target)
            onLegacyOpen()
            let window = try await SwitchState.read(slot: slot, on: forward.target)?.rollbackUnavailableMilliseconds
            say(
                "Fence lifted from \(configuration.sourceTableList): write to the legacy schema "
                    + "now\(window.map { String(format: " (writes were unavailable for %.0f ms)", $0) } ?? "")."
            )
        }
        try await forward.resume()
        say(
            "Forward replication resumed from \(record.fenceLSN ?? "where it paused"); "
                + "it skips the reverse direction's writes.")
        if record.step != "reverse dropped" {
            try await ReverseSlot.drop(reverse, logger: Logger(label: "walbridge.rollback"))
            try await SwitchState.record(phase: .rollingBack, step: "reverse dropped", slot: slot, on: forward.target)
            say(
                "Reverse replication stopped; its slot \(reverse.slot) is dropped. The new tables stay fenced for the "
                    + "application; the bridge still writes them.")
        }
        try await SwitchState.record(phase: .rolledBack, step: "rolled back", slot: slot, on: forward.target)
    }

    /// Returns to the switched state after `failure` (the application may write the new schema again, and the reverse
    /// direction goes on), and the error that says so, or says which step of that failed and what finishes it.
    private func undo(after failure: Error, forward: Direction, reverse: Direction) async -> Error {
        let describe = { (error: Error) in BridgeError.message(for: error) ?? "\(error)" }
        var lift: String?, rest: [String] = []
        do { try await Direction.lift(slot: reverse.slot, on: reverse.source) } catch { lift = describe(error) }
        do { try await reverse.resume() } catch { rest.append("resuming reverse replication (\(describe(error)))") }
        do {
            try await SwitchState.record(
                phase: .switched, step: "rollback undone", slot: forward.slot, on: forward.target)
        } catch {
            rest.append("recording the switched state back (\(describe(error)))")
        }
        let tables = reverse.configuration.sourceTableList
        switch (lift, rest.isEmpty) {
        case (nil, true):
            return BridgeError.targetNotReady(
                "\(describe(failure)); the rollback is undone: the new tables' fence is lifted and reverse replication "
                    + "resumed, so writes go to the new schema as before. See walbridge status, and run walbridge "
                    + "rollback again")
        case (let lift?, true):
            return BridgeError.targetNotReady(
                "\(describe(failure)); the rollback is undone, but the fence on \(tables) could not be lifted "
                    + "(\(lift)), so they refuse the application's writes; run walbridge cutover again to lift it "
                    + "(walbridge status says so until then)")
        default:
            let failed = (lift.map { ["lifting the fence on \(tables) (\($0))"] } ?? []) + rest
            return BridgeError.targetNotReady(
                "\(describe(failure)); undoing the rollback failed at \(failed.joined(separator: "; ")): walbridge "
                    + "status names the command that finishes it")
        }
    }

    /// Fences the new tables, drains the reverse direction to the LSN right after the fence, and hands the legacy
    /// sequences over; throws (the caller returns to the switched state) when the legacy tables would lack a write.
    private func drainReverse(forward: Direction, reverse: Direction) async throws {
        let slot = forward.slot
        let newFence = WriteFence(reverse.configuration, action: "rolled back to", instead: "the legacy schema")
        try await reverse.install(newFence, lockTimeout: lockTimeout)
        try await SwitchState.recordRollbackFence(slot: slot, on: forward.target)
        say(
            "Fence: writes to \(reverse.configuration.sourceTableList) are refused (SQLSTATE \(WriteFence.sqlState)) "
                + "by trigger \(WriteFence.trigger(slot: reverse.slot)).")
        let lsn = try await reverse.currentLSN()
        try await SwitchState.recordRollbackLSN(lsn.description, slot: slot, on: forward.target)
        try await reverse.pause(at: lsn)
        guard try await reverse.waitUntilPaused(at: lsn, timeout: drainTimeout) else {
            throw BridgeError.targetNotReady(
                "the reverse direction (slot \(reverse.slot)) did not drain to \(lsn) within \(drainTimeout) "
                    + "(is walbridge run running?)")
        }
        if let waiting = try await deadLetters(reverse) {
            throw BridgeError.targetNotReady(waiting)
        }
        try await SwitchState.record(phase: .rollingBack, step: "drained", slot: slot, on: forward.target)
        say("Drained: the legacy tables hold exactly the new schema's transactions committed up to \(lsn).")
        for change in try await SequenceHandover(configuration: reverse.configuration).run(
            source: reverse.source, target: reverse.target, apply: true) {
            say("Sequence: \(change)")
        }
    }

    /// `--dry-run`: what the steps would do.
    private func describe(_ reverse: Direction) {
        say("Dry run; nothing changes. The rollback would:")
        say(
            "  wait until the reverse direction (slot \(reverse.slot)) applies the new schema "
                + "within --max-lag \(maxLag)")
        say(
            "  fence \(reverse.configuration.sourceTableList) with trigger \(WriteFence.trigger(slot: reverse.slot)) "
                + "(writes refused with SQLSTATE \(WriteFence.sqlState))"
        )
        say("  drain the reverse direction exactly to the LSN taken right after that fence, within \(drainTimeout)")
        say("  set the legacy sequences past what it copied, and lift the fence from \(configuration.sourceTableList)")
        say("  resume forward replication from where the cut-over paused it, drop slot \(reverse.slot), and verify")
    }

    /// Why the rollback cannot go on while the legacy tables lack changes the reverse direction dead-lettered; nil if
    /// none.
    private func deadLetters(_ reverse: Direction) async throws -> String? {
        let count = try await DeadLetters.pendingCount(slot: reverse.slot, on: reverse.target)
        guard count > 0 else { return nil }
        return "the legacy tables refused \(count) change\(count == 1 ? "" : "s") "
            + "of the new schema (walbridge.dead_letters in the legacy database, slot \(reverse.slot)), "
            + "so they lack them; walbridge dlq list --reverse shows them; mend the legacy tables and walbridge dlq "
            + "retry --reverse, then roll back"
    }

    /// Verifies the forward direction once it streams again (verify then waits until it has caught up).
    private func verified(_ forward: Direction) async throws -> VerifyReport? {
        guard let verifier = verify.verifier(configuration) else { return nil }
        guard try await forward.waitUntilStreaming(timeout: drainTimeout) else {
            throw BridgeError.targetNotReady(
                "rolled back, but forward replication (slot \(forward.slot)) "
                    + "did not stream again within \(drainTimeout), so it was not verified; see walbridge status, "
                    + "and run walbridge verify once it streams")
        }
        return try await verifier.run()
    }
}
