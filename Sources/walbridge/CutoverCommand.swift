import ArgumentParser
import Foundation
import WALBridge

/// `walbridge cutover`: switch the application's writes from the legacy tables to the new schema, gated and fenced.
struct CutoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cutover",
        abstract: "Switch writes to the new schema: gates, a write fence on the legacy tables, an exact drain, "
            + "sequences, the switch record.",
        discussion: """
            Gates first (the bridge streams, every backfill is done, lag under --max-lag, a clean verify, and with \
            --reverse a reverse mapping that passes check); a failed gate changes nothing. Then it fences the legacy \
            tables (a trigger refusing writes with SQLSTATE 25006, or --fence lock to queue them), pauses the bridge \
            exactly at the LSN taken after the fence, sets every sequence behind a target column past the copied \
            values and the legacy sequence, and records the switch in walbridge.switch. With --reverse, the new \
            schema's writes then flow back to the legacy tables, and walbridge rollback can switch back. Each step is \
            recorded: a killed cutover is run again and goes on; cutover --abort undoes one that has not switched.
            """
    )

    @OptionGroup var options: ConfigOption

    @Option(help: """
        trigger (refuse writes), lock (queue them for at most --lock-timeout), or none (the application \
        is stopped).
        """)
    var fence: String = "trigger"

    @Option(
        help: "Seconds the fence may wait for the legacy tables' running writers, and a lock fence may queue writes.")
    var lockTimeout: Double = 5

    @Option(help: "Seconds within which the bridge must apply the source's current position.")
    var maxLag: Double = 1

    @Option(help: "sample:N (N random keys per table, default sample:1000), full, or skip.")
    var verify: String = "sample:1000"

    @Option(help: "Seconds the drain to the fence LSN may take before the cut-over is undone.")
    var drainTimeout: Double = 60

    @Flag(
        help: "Start reverse replication (the reverse: mapping) once switched, so that walbridge rollback can go back.")
    var reverse = false

    @Flag(help: "Check the gates and print the steps without changing anything.")
    var dryRun = false

    @Flag(help: "Undo a cut-over that has not switched: lift the fence and resume the bridge.")
    var abort = false

    func validate() throws {
        guard FenceKind(rawValue: fence) != nil else {
            throw ValidationError("--fence must be trigger, lock or none, not \(fence)")
        }
        guard VerifyGate(verify) != nil else {
            throw ValidationError("--verify must be sample:N, full or skip, not \(verify)")
        }
        for (name, value) in [("--lock-timeout", lockTimeout), ("--max-lag", maxLag), ("--drain-timeout", drainTimeout)]
        where !(value > 0) {
            throw ValidationError("\(name) must be a positive number of seconds")
        }
    }

    func run() async throws {
        var cutover = CutoverOptions()
        cutover.fence = FenceKind(rawValue: fence) ?? .trigger
        cutover.lockTimeout = .seconds(lockTimeout)
        cutover.maxLag = .seconds(maxLag)
        cutover.verify = VerifyGate(verify) ?? .sample(1000)
        cutover.drainTimeout = .seconds(drainTimeout)
        cutover.reverse = reverse
        cutover.dryRun = dryRun
        let command = Cutover(configuration: options.load(), options: cutover, say: { print($0) })
        let abort = abort
        try await CommandLogging.runUntilSignalled(logger: CommandLogging.logger(quiet: true)) {
            try CutoverText.finish(abort ? try await command.abort() : try await command.run())
        }
    }
}

/// The last lines of `cutover` and `rollback`.
enum CutoverText {
    /// Prints how the command ended; a refusal exits 1 with its reasons on stderr.
    static func finish(_ outcome: CutoverOutcome) throws {
        switch outcome {
        case .done(let record) where record.phase == .rolledBack:
            let window =
                record.rollbackUnavailableMilliseconds.map { String(format: ", writes unavailable for %.0f ms", $0) }
                ?? ""
            print(
                "walbridge.switch: rolled_back at \(record.rolledBackAt ?? "?")"
                    + "\(record.rollbackLSN.map { ", the reverse direction drained to \($0)" } ?? "")\(window)"
            )
        case .done(let record):
            print("""
                walbridge.switch: \(record.phase.rawValue)\(record.fenceLSN.map { " at fence LSN \($0)" } ?? "")\
                \(record.unavailableMilliseconds.map { String(format: ", writes unavailable for %.0f ms", $0) } ?? "")
                """)
        case .dryRun:
            print("dry run: nothing changed")
        case .refused(let reasons):
            FileHandle.standardError.write(Data(reasons.map { "walbridge: error: \($0)\n" }.joined().utf8))
            throw ExitCode.failure
        }
    }
}

/// `walbridge rollback`: switch writes back to the legacy tables after `cutover --reverse`.
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Switch writes back to the legacy tables after cutover --reverse, and resume forward replication.",
        discussion: """
            Fences the new tables, drains the reverse replication to the LSN taken after that fence, sets the legacy \
            sequences past what it copied, lifts the legacy fence, drops the reverse slot, resumes forward replication \
            from where the cut-over paused it (it skips the reverse direction's writes), and verifies. Each step is \
            recorded: a killed rollback is run again and goes on.
            """
    )

    @OptionGroup var options: ConfigOption

    @Option(help: "sample:N (default sample:1000), full, or skip: how the forward direction is verified at the end.")
    var verify: String = "sample:1000"

    @Option(help: "Seconds the new tables' fence may wait for their running writers.")
    var lockTimeout: Double = 5

    @Option(help: "Seconds within which the reverse direction must apply the new schema's current position.")
    var maxLag: Double = 5

    @Option(help: "Seconds the reverse direction's drain to the fence LSN may take before the rollback is undone.")
    var drainTimeout: Double = 60

    @Flag(help: "Check the rollback can start and print its steps without changing anything.")
    var dryRun = false

    func validate() throws {
        guard VerifyGate(verify) != nil else {
            throw ValidationError("--verify must be sample:N, full or skip, not \(verify)")
        }
        for (name, value) in [("--lock-timeout", lockTimeout), ("--max-lag", maxLag), ("--drain-timeout", drainTimeout)]
        where !(value > 0) {
            throw ValidationError("\(name) must be a positive number of seconds")
        }
    }

    func run() async throws {
        var rollback = Rollback(configuration: options.load(), say: { print($0) })
        rollback.verify = VerifyGate(verify) ?? .sample(1000)
        rollback.lockTimeout = .seconds(lockTimeout)
        rollback.maxLag = .seconds(maxLag)
        rollback.drainTimeout = .seconds(drainTimeout)
        rollback.dryRun = dryRun
        try await CommandLogging.runUntilSignalled(logger: CommandLogging.logger(quiet: true)) { [rollback] in
            let (outcome, report) = try await rollback.run()
            if let report { print(VerifyText.render(report, shownPerTable: VerifyCommand.shownPerTable)) }
            try CutoverText.finish(outcome)
            if let report, report.mismatchCount > 0 { throw ExitCode.failure }
        }
    }
}
