import ArgumentParser
import WALBridge

/// `walbridge pause`: stop the running bridge at a transaction boundary, keeping the slot.
struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Pause the bridge at the next source transaction boundary (or right after --at-lsn); "
            + "the slot keeps the WAL.",
        discussion: """
            The pause is stored in walbridge.control in the target: a running bridge stops within a second, and a bridge
            started while paused stays paused. For a clean cut-over, stop the application's writes, take
            SELECT pg_current_wal_lsn() on the source, and pause --at-lsn it: the target then holds exactly the
            transactions committed at or before it. `walbridge resume` goes on from there.
            """
    )

    @OptionGroup var options: ConfigOption

    @Option(help: "Stop right after the last source transaction that commits at or before this LSN (e.g. 0/1A2B3C4).")
    var atLsn: String?

    func validate() throws {
        if let atLsn, WALPosition(atLsn) == nil {
            throw ValidationError("--at-lsn \(atLsn) is not an LSN such as 0/1A2B3C4")
        }
    }

    func run() async throws {
        let configuration = options.load()
        let lsn = atLsn.flatMap { WALPosition($0) }
        try await CommandLogging.runUntilSignalled(logger: CommandLogging.logger(quiet: true)) {
            try await StateStore.withTarget(configuration) { try await $0.pause(at: lsn) }
            print(
                lsn.map {
                    "Pause asked for slot \(configuration.slot) after the last transaction "
                        + "committing at or before \($0)."
                }
                    ?? "Pause asked for slot \(configuration.slot): a running bridge stops at its next transaction "
                    + "boundary, within a second.")
        }
    }
}

/// `walbridge resume`: go on from where the bridge paused.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a paused bridge from exactly where it stopped."
    )

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let configuration = options.load()
        try await CommandLogging.runUntilSignalled(logger: CommandLogging.logger(quiet: true)) {
            try await StateStore.withTarget(configuration) { try await $0.resume() }
            print("Resume asked for slot \(configuration.slot): a running bridge goes on within a second.")
        }
    }
}
