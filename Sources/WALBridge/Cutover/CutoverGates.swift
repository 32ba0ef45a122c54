/// The gates a cut-over passes before it changes anything; each failure is a line that says what to do.
struct CutoverGates {
    let configuration: Configuration
    let options: CutoverOptions
    let say: @Sendable (String) -> Void

    /// Every failed gate; empty when the cut-over may go on. `reverse` is set with `--reverse`.
    func check(forward: Direction, reverse: Direction?) async throws -> [String] {
        var failures: [String] = []
        func gate(_ passed: Bool, _ pass: String, _ failure: @autoclosure () -> String) {
            if passed { say("  ✓ \(pass)") } else { failures.append(failure()); say("  ✗ \(failures.last!)") }
        }
        let status = try await BridgeStatus.read(configuration)
        let streaming = ["streaming", "backfilling"].contains(status.state) && !status.paused
        gate(streaming, "the bridge is streaming", stateAdvice(status))
        let unfinished = status.backfill.filter { $0.state != .done }
        gate(unfinished.isEmpty, "every backfill is done",
            "the backfill "
                + "of \(unfinished.map { "\($0.table) (\($0.state), \($0.rowsCopied) rows)" }.joined(separator: ", ")) "
                + "is not done; wait until walbridge status shows every table done"
        )
        gate(status.deadLetters == 0, "no dead letters",
            "\(status.deadLetters) change\(status.deadLetters == 1 ? "" : "s") the target refused wait in "
                + "walbridge.dead_letters, and the new schema lacks them; walbridge dlq list shows them, "
                + "walbridge dlq retry applies them once the target takes them")
        guard streaming else { return failures }
        let caughtUp = try await forward.caughtUp(within: options.maxLag)
        gate(caughtUp, "the bridge applies the source within \(options.maxLag)",
            "the bridge did not apply the source's current position within --max-lag \(options.maxLag) "
                + "(lag \(status.lagBytes.map { "\($0) bytes" } ?? "?")); wait until walbridge status shows it "
                + "caught up, or raise --max-lag")
        if let verifier = options.verify.verifier(configuration) {
            let report = try await verifier.run()
            let shown = report.tables.flatMap(\.mismatches).prefix(5).map(\.description).joined(separator: "; ")
            gate(
                report.mismatchCount == 0,
                "verify: every compared row matches (\(report.tables.reduce(0) { $0 + $1.rows }) rows)",
                "verify found \(report.mismatchCount) mismatch\(report.mismatchCount == 1 ? "" : "es") "
                    + "(\(shown)); walbridge verify lists each: "
                    + "mend them before cutting over")
        }
        if let reverse { try await reverseGates(forward: forward, reverse: reverse, gate: gate) }
        return failures
    }

    /// With `--reverse`: the reverse mapping passes `check`, and `walbridge run` runs the reverse direction beside the
    /// forward one (so the forward direction marks its writes for it).
    private func reverseGates(
        forward: Direction, reverse: Direction, gate: (Bool, String, @autoclosure () -> String) -> Void
    ) async throws {
        let report = try await Check.run(reverse.configuration)
        gate(report.problems.isEmpty, "the reverse mapping passes check",
             "the reverse mapping fails check: \(report.problems.joined(separator: "; "))")
        let roundTrip = try await RoundTrip.prove(configuration)
        gate(
            roundTrip.problems.isEmpty,
            "every sampled legacy row comes back as it was through the new schema and reverse:",
             "the reverse mapping does not round-trip: \(roundTrip.problems.joined(separator: "; "))")
        // The running forward bridge says it marks its writes for the reverse slot only when it was started with
        // reverse:, and then its process runs the reverse direction too (which has made its row).
        let marks = try await Control.reported(slot: forward.slot, on: forward.target)?.partner == reverse.slot
        let waiting = try await Control.reported(slot: reverse.slot, on: reverse.target) != nil
        gate(
            marks && waiting,
            "walbridge run runs the reverse direction (slot \(reverse.slot)) too, and marks its writes for it",
            "walbridge run is not running the reverse direction (slot \(reverse.slot)); "
                + "restart walbridge run with this configuration (with reverse:), so that one process runs both "
                + "directions and marks its writes for the other")
    }

    /// What to do about a bridge that is not streaming.
    private func stateAdvice(_ status: BridgeStatus) -> String {
        if status.paused {
            return "the bridge is paused; walbridge resume --config …, and wait until walbridge status says streaming"
        }
        switch status.state {
        case "failed": return "the bridge failed (\(status.error ?? "?")); mend that and restart walbridge run"
        case "starting": return "the bridge is starting; wait until walbridge status says streaming"
        default:
            return "no bridge is streaming slot \(status.slot) (state \(status.state)); "
                + "start walbridge run --config … and wait until walbridge status says streaming"
        }
    }
}
