import ArgumentParser
import Foundation
import WALBridge

/// `walbridge status`: the bridge's state, position, lag and backfill, whether or not it runs.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the bridge's state, applied position, lag, dead letters, "
            + "backfill progress and the slot's retained WAL."
    )

    @OptionGroup var options: ConfigOption

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() async throws {
        let configuration = options.load()
        let json = json
        try await CommandLogging.runUntilSignalled(logger: CommandLogging.logger(quiet: true)) {
            let status = try await BridgeStatus.read(configuration)
            if json { try StatusText.printJSON(status) } else { print(StatusText.render(status)) }
        }
    }
}

/// `walbridge status` for people, and for scripts.
enum StatusText {
    /// Prints `value` as indented JSON with sorted keys.
    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func render(_ status: BridgeStatus) -> String {
        var lines = ["slot \(status.slot): \(status.state)\(status.error.map { " (\($0))" } ?? "")"]
        if status.paused {
            lines.append("  paused\(status.pauseAtLSN.map { " at LSN \($0)" } ?? ""); walbridge resume goes on")
        }
        lines.append(
            "  applied:      \(status.appliedLSN ?? "nothing yet")"
                + "\(status.sourceCommitTime.map { " (source commit \($0))" } ?? "")"
        )
        if let bytes = status.lagBytes {
            lines.append(
                "  lag:          \(bytes) bytes\(status.lagSeconds.map { String(format: ", %.1f s", $0) } ?? "")")
        }
        lines.append("  dead letters: \(status.deadLetters)")
        for table in status.backfill {
            let estimate = table.rowsEstimated.map { " of about \($0)" } ?? ""
            lines.append("  backfill \(table.table): \(table.state), \(table.rowsCopied) rows\(estimate)")
        }
        let slot = status.sourceSlot
        if slot.exists {
            lines.append("""
                  source slot:  \
                \(slot.active ? "active (walsender pid \(slot.activePID.map(String.init) ?? "?"))" : "inactive"), \
                wal_status \(slot.walStatus ?? "?")
                """)
            lines.append(
                "                confirmed_flush_lsn \(slot.confirmedFlushLSN ?? "-"), "
                    + "restart_lsn \(slot.restartLSN ?? "-")")
            lines.append(
                "                retains \(slot.retainedBytes.map(String.init) ?? "?") "
                    + "bytes of WAL (max_slot_wal_keep_size \(slot.maxSlotWALKeepSize))")
        } else {
            lines.append("  source slot:  missing")
        }
        if let warning = status.retainedWALWarning { lines.append("  warning: \(warning)") }
        if let cutover = status.cutover {
            var line =
                "  cut-over:     \(cutover.phase.rawValue) (step \(cutover.step), "
                + "fence \(cutover.fence)\(cutover.reverse ? ", reverse" : ""))"
            if let lsn = cutover.fenceLSN { line += ", fence LSN \(lsn)" }
            if let ms = cutover.unavailableMilliseconds {
                line += String(format: ", writes unavailable for %.0f ms", ms)
            }
            lines.append(line)
        }
        if let unfinished = status.unfinished { lines.append("  unfinished:   \(unfinished)") }
        if !status.fenced.isEmpty {
            lines.append(
                "  fenced:       \(status.fenced.joined(separator: ", ")) (writes refused with SQLSTATE 25006)")
        }
        if let state = status.reverseState {
            lines.append("  reverse:      \(state), applied \(status.reverseAppliedLSN ?? "nothing yet")")
        }
        return lines.joined(separator: "\n")
    }
}
