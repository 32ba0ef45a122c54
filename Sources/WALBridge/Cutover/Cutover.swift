import Logging
import PGClient
import PGOutput

/// `walbridge cutover`: gates, a write fence on the legacy tables, the drain to the LSN right after it, the sequences
/// handed over, the switch record, and with `reverse` the reverse replication started. Each step is recorded in
/// `walbridge.switch` before the next, so a command killed half-way is run again and goes on from its last step.
public struct Cutover: Sendable {
    public let configuration: Configuration
    public let options: CutoverOptions
    /// Receives each step's narration.
    public let say: @Sendable (String) -> Void
    /// Called the moment the switch is recorded: an application embedding the cut-over flips its writes here.
    public var onSwitched: @Sendable () -> Void = {}

    public init(configuration: Configuration, options: CutoverOptions, say: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        self.options = options
        self.say = say
    }

    /// Runs the cut-over, or goes on with one a killed command left.
    public func run() async throws -> CutoverOutcome {
        if options.reverse && configuration.reversed == nil {
            return .refused([
                "--reverse needs a reverse: mapping in the configuration (the new tables back to the legacy ones); "
                    + "add it, prove it with walbridge check, restart walbridge run with it, "
                    + "and run cutover again"
            ])
        }
        return try await CutoverSessions.with(configuration) { forward, reverse in
            let record = try await SwitchState.read(slot: configuration.slot, on: forward.target)
            switch record?.phase {
            case .switched?:
                try await openNewTables(forward)
                say(
                    "Already switched at \(record?.switchedAt ?? "?") (fence LSN \(record?.fenceLSN ?? "?")); "
                        + "nothing to do. walbridge rollback goes back.")
                if record?.reverse == true, let reverse { try await reverse.resume() }
                return .done(record!)
            case .rollingBack?:
                return .refused([
                    "a rollback is under way (step \(record?.step ?? "?")); "
                        + "run walbridge rollback to finish it first"
                ])
            case .cuttingOver?:
                return try await resume(record!, forward: forward, reverse: reverse)
            default:
                if try await !WriteFence.fenced(slot: forward.slot, on: forward.source).isEmpty {
                    say(
                        "A cut-over undone before left the legacy tables fenced: "
                            + "lifting that fence and resuming the bridge first.")
                    try await undo(forward: forward, reverse: nil, step: record?.step ?? "aborted")
                    _ = try await forward.waitUntilStreaming(timeout: .seconds(30))
                }
                return try await begin(forward: forward, reverse: reverse)
            }
        }
    }

    /// Lifts the fence a rollback left on the new tables, which the application writes once switched.
    private func openNewTables(_ forward: Direction) async throws {
        let fenced = try await WriteFence.fenced(slot: configuration.reverseSlot, on: forward.target)
        guard !fenced.isEmpty else { return }
        do {
            try await Direction.lift(slot: configuration.reverseSlot, on: forward.target)
        } catch {
            throw BridgeError.targetNotReady(
                "switched: the application writes the new schema, "
                    + "but the fence the last rollback left on \(fenced.joined(separator: ", ")) could not be "
                    + "lifted (\(BridgeError.message(for: error) ?? "\(error)")), so no table takes its writes; "
                    + "run walbridge cutover again to lift it (walbridge status says so until then)")
        }
        say(
            "Fence lifted from \(fenced.joined(separator: ", ")), which the last rollback left: "
                + "the application writes them now.")
    }

    /// A new cut-over: the gates, then every step.
    private func begin(forward: Direction, reverse: Direction?) async throws -> CutoverOutcome {
        say("Gates (nothing changes until they all pass):")
        let failures = try await CutoverGates(configuration: configuration, options: options, say: say).check(
            forward: forward, reverse: options.reverse ? reverse : nil)
        if !failures.isEmpty { return .refused(failures) }
        if options.dryRun {
            try await describe(forward: forward)
            return .dryRun
        }
        try await SwitchState.begin(
            slot: forward.slot, fence: options.fence.rawValue, reverse: options.reverse, on: forward.target)
        if let reverse = options.reverse ? reverse : nil {
            // A fresh slot: one an earlier attempt left holds changes from before these gates.
            try await ReverseSlot.drop(reverse, logger: logger)
            try await ReverseSlot.prepare(reverse, logger: logger)
            try await SwitchState.record(step: "reverse ready", slot: forward.slot, on: forward.target)
            say(
                "Reverse replication prepared: slot \(reverse.slot) "
                    + "and publication \(reverse.configuration.publication) on the target, paused until the switch.")
        }
        return try await fenceAndSwitch(
            fence: options.fence, reverse: options.reverse ? reverse : nil, forward: forward, measured: true)
    }

    /// Goes on with the cut-over a killed command left at `record.step`: from the fence on when the fence stands, else
    /// (nothing was fenced yet, or a lock fence ended with its session) it is undone and begun again, gates and all.
    private func resume(
        _ record: SwitchRecord, forward: Direction, reverse: Direction?
    ) async throws -> CutoverOutcome {
        let fence = FenceKind(rawValue: record.fence) ?? .trigger
        let fenced = try await WriteFence.fenced(slot: forward.slot, on: forward.source)
        let standing = fence == .none ? !["started", "reverse ready"].contains(record.step) : !fenced.isEmpty
        if options.dryRun {
            say(
                "A cut-over is under way (step \(record.step), "
                    + "fence \(record.fence)\(fenced.isEmpty ? "" : " on \(fenced.joined(separator: ", "))")); "
                    + "walbridge cutover goes on with it, cutover --abort undoes it.")
            return .dryRun
        }
        guard standing else {
            say(
                "The cut-over begun before stopped at step '\(record.step)' with nothing "
                    + "fenced\(fence == .lock ? " (its lock ended with its session)" : ""): "
                    + "undoing it and starting again.")
            try await undo(forward: forward, reverse: reverse, step: "undone before the fence")
            _ = try await forward.waitUntilStreaming(timeout: .seconds(30))
            return try await begin(forward: forward, reverse: reverse)
        }
        say(
            "Going on with the cut-over left at step '\(record.step)' "
                + "(fence \(record.fence)\(record.reverse ? ", reverse" : "")); its gates passed when it began.")
        return try await fenceAndSwitch(
            fence: fence == .lock ? .trigger : fence, reverse: record.reverse ? reverse : nil, forward: forward,
            measured: false)
    }

    /// Lifts the legacy fence, resumes the bridge, drops the reverse slot and records the cut-over aborted at `step`.
    private func undo(forward: Direction, reverse: Direction?, step: String) async throws {
        do {
            try await Direction.lift(slot: forward.slot, on: forward.source)
        } catch {
            throw BridgeError.targetNotReady(
                "the cut-over is undone, but the fence on \(tables) "
                    + "could not be lifted (\(BridgeError.message(for: error) ?? "\(error)")), "
                    + "so they refuse the application's writes; run walbridge cutover --abort again to lift it "
                    + "(walbridge status says so until then)")
        }
        try await forward.resume()
        if let reverse { try await ReverseSlot.drop(reverse, logger: logger) }
        try await SwitchState.record(phase: .aborted, step: step, slot: forward.slot, on: forward.target)
    }

    private var logger: Logger { Logger(label: "walbridge.cutover") }

    /// The steps from the fence to the switch; any failure before the switch lifts the fence and resumes the bridge.
    /// `measured`: the window is timed (not when going on after a crash).
    private func fenceAndSwitch(
        fence: FenceKind, reverse: Direction?, forward: Direction, measured: Bool
    ) async throws -> CutoverOutcome {
        var lock: PGConnection?
        let switched: (lsn: LSN, window: Double?)
        do {
            switched = try await steps(fence: fence, forward: forward, measured: measured, lock: &lock)
        } catch let refusal as CutoverRefusal {
            if let lock { await LockFence.release(lock) }
            try await undo(forward: forward, reverse: reverse, step: refusal.step)
            return .refused([refusal.reason])
        } catch {
            if let lock { await LockFence.release(lock) }
            // A switch record whose acknowledgement was lost has switched: nothing is undone after it.
            if (try? await SwitchState.read(slot: forward.slot, on: forward.target))??.phase == .cuttingOver {
                try? await undo(forward: forward, reverse: reverse, step: "failed: \(error)")
            }
            throw error
        }
        onSwitched()
        // A rollback before this one left the new tables fenced; the application writes them from now on.
        try await openNewTables(forward)
        say(
            "Switched at \(switched.lsn): write to the new schema "
                + "now\(switched.window.map { String(format: " (writes were unavailable for %.0f ms)", $0) } ?? "")."
        )
        if let reverse {
            try await reverse.resume()
            say(
                "Reverse replication runs: the new tables' writes go back to \(tables); "
                    + "walbridge rollback switches back.")
        }
        guard let record = try await SwitchState.read(slot: forward.slot, on: forward.target) else {
            throw BridgeError.targetNotReady("target: the switch record of slot \(forward.slot) vanished")
        }
        return .done(record)
    }

    /// The legacy tables, for messages.
    private var tables: String { configuration.sourceTableList }

    /// The steps from the fence to the switch record; the LSN switched at and the window (timed here when `measured`,
    /// else
    /// from the first fence's recorded time).
    private func steps(
        fence: FenceKind, forward: Direction, measured: Bool, lock: inout PGConnection?
    ) async throws -> (lsn: LSN, window: Double?) {
        let slot = forward.slot
        let legacyFence = WriteFence(configuration, action: "cut over to", instead: "the new schema")
        switch fence {
        case .trigger:
            do {
                try await forward.install(legacyFence, lockTimeout: options.lockTimeout)
            } catch let error as PGError where error.sqlState == "55P03" {
                throw CutoverRefusal(
                    step: "fence timed out",
                    reason: "the fence could not lock \(tables) within --lock-timeout \(options.lockTimeout): "
                        + "a long transaction holds one of them; nothing changed. Try again when it ends, "
                        + "or with a longer --lock-timeout")
            }
            say(
                "Fence: writes to \(tables) are refused (SQLSTATE \(WriteFence.sqlState)) by "
                    + "trigger \(WriteFence.trigger(slot: slot)); DROP FUNCTION \(WriteFence.function(slot: slot))() "
                    + "CASCADE lifts it by hand.")
        case .lock:
            do {
                lock = try await LockFence.acquire(configuration, timeout: options.lockTimeout)
            } catch let error as PGError where error.sqlState == "55P03" {
                throw CutoverRefusal(
                    step: "lock timed out",
                    reason: "could not lock \(tables) within --lock-timeout \(options.lockTimeout): "
                        + "a long transaction holds one of them; nothing changed. Try again when it ends, "
                        + "or with a longer --lock-timeout")
            }
            say("Fence: writes to \(tables) wait behind an EXCLUSIVE lock, for at most \(options.lockTimeout).")
        case .none:
            say("Fence: none; the application must have stopped writing the legacy tables.")
        }
        let fencedAt = ContinuousClock.now
        let lsn = try await forward.currentLSN()
        let clock = try await forward.source.query("SELECT clock_timestamp()::text").scalar ?? ""
        try await SwitchState.recordFence(lsn: lsn.description, at: clock, slot: slot, on: forward.target)

        try await forward.pause(at: lsn)
        let budget = fence == .lock ? options.lockTimeout - (ContinuousClock.now - fencedAt) : options.drainTimeout
        guard try await forward.waitUntilPaused(at: lsn, timeout: budget) else {
            throw CutoverRefusal(
                step: "drain timed out",
                reason: "the bridge did not drain to \(lsn) within \(budget), "
                    + "or stopped (is walbridge run running?); the fence is lifted and the bridge resumed, "
                    + "so nothing changed. See walbridge status, and try again (a longer "
                    + "--\(fence == .lock ? "lock" : "drain")-timeout)")
        }
        let letters = try await DeadLetters.pendingCount(slot: slot, on: forward.target)
        guard letters == 0 else {
            throw CutoverRefusal(
                step: "dead letters",
                reason: "the target refused \(letters) change\(letters == 1 ? "" : "s") "
                    + "while the bridge drained (walbridge dlq list shows them), so the new schema lacks them; "
                    + "the fence is lifted and the bridge resumed. Mend the target, walbridge dlq retry, "
                    + "then cut over again")
        }
        try await SwitchState.record(step: "drained", slot: slot, on: forward.target)
        say("Drained: the target holds exactly the source transactions committed up to \(lsn).")

        for change in try await SequenceHandover(configuration: configuration).run(
            source: forward.source, target: forward.target, apply: true) {
            say("Sequence: \(change)")
        }
        try await SwitchState.record(step: "sequences", slot: slot, on: forward.target)

        if let session = lock {
            // The trigger outlives the lock: writes queued behind it are refused once it ends.
            lock = nil
            try await LockFence.commit(session, installing: legacyFence)
        }
        let window =
            measured ? Double((ContinuousClock.now - fencedAt) / .milliseconds(1)) : try await sinceFirstFence(forward)
        guard try await SwitchState.recordSwitch(unavailableMilliseconds: window, slot: slot, on: forward.target) else {
            throw CutoverRefusal(
                step: "aborted", reason: "the cut-over was aborted (cutover --abort) while it ran; nothing was switched"
            )
        }
        return (lsn, window)
    }

    /// Milliseconds since the cut-over's first fence went up, by the source's clock: the window of one that goes on
    /// after a
    /// kill, which refused writes all the while.
    private func sinceFirstFence(_ forward: Direction) async throws -> Double {
        let fencedAt = try await SwitchState.read(slot: forward.slot, on: forward.target)?.fencedAt
        let milliseconds = try await forward.source.query(
            "SELECT (extract(epoch FROM clock_timestamp() - $1::timestamptz) * 1000)::float8::text", [fencedAt]).scalar
        return milliseconds.flatMap { Double($0) } ?? 0
    }

    /// `--dry-run`: what the steps would do.
    private func describe(forward: Direction) async throws {
        say("Dry run; nothing changes. The cut-over would:")
        if options.reverse {
            say(
                "  prepare reverse replication: slot \(configuration.reverseSlot) "
                    + "and publication \(configuration.reversePublication) on the target")
        }
        switch options.fence {
        case .trigger:
            say(
                "  fence \(tables) with trigger \(WriteFence.trigger(slot: forward.slot)) "
                    + "(writes refused with SQLSTATE \(WriteFence.sqlState))"
            )
        case .lock:
            say(
                "  lock \(tables) IN EXCLUSIVE MODE for at most \(options.lockTimeout), "
                    + "then fence them with trigger \(WriteFence.trigger(slot: forward.slot))"
            )
        case .none: say("  fence nothing")
        }
        say("  pause the bridge exactly at the LSN taken right after the fence (now \(try await forward.currentLSN()))")
        for change in try await SequenceHandover(configuration: configuration).run(
            source: forward.source, target: forward.target, apply: false) {
            say("  set sequence \(change)")
        }
        say("  record the switch in walbridge.switch\(options.reverse ? ", and start reverse replication" : "")")
    }

    /// `cutover --abort`: lifts the legacy fence and resumes the bridge, while the cut-over has not switched.
    public func abort() async throws -> CutoverOutcome {
        try await CutoverSessions.with(configuration) { forward, reverse in
            let record = try await SwitchState.read(slot: configuration.slot, on: forward.target)
            let fenced = try await WriteFence.fenced(slot: forward.slot, on: forward.source)
            if let record, record.phase == .aborted, !fenced.isEmpty {
                // An abort whose lift failed, or was killed, after it claimed the record: finish it.
                try await undo(forward: forward, reverse: reverse, step: record.step)
                say("Fence lifted from \(tables), which a cut-over undone before left; the bridge resumed.")
                return .done(try await SwitchState.read(slot: forward.slot, on: forward.target) ?? record)
            }
            guard let record, record.phase == .cuttingOver else {
                if record?.phase == .switched {
                    return .refused([
                        "the cut-over switched at \(record?.switchedAt ?? "?"); "
                            + "the application may have written the new schema since, "
                            + "so walbridge rollback (which carries those writes back) is the way back"
                    ])
                }
                return .refused([
                    "no cut-over is under way "
                        + "(\(record.map { "the last one is \($0.phase.rawValue)" } ?? "none began")); "
                        + "nothing to abort"
                ])
            }
            // Claim the record first: a cut-over that switches meanwhile finds it aborted, and one that switched first
            // wins.
            guard try await SwitchState.abort(slot: forward.slot, on: forward.target) else {
                return .refused(["the cut-over switched while the abort began; walbridge rollback is the way back"])
            }
            try await undo(forward: forward, reverse: reverse, step: "aborted")
            say(
                "Fence lifted from \(tables); the bridge resumed from where it "
                    + "paused\(reverse == nil ? "" : "; the reverse slot is dropped").")
            return .done(try await SwitchState.read(slot: forward.slot, on: forward.target) ?? record)
        }
    }
}
