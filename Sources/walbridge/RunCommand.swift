import ArgumentParser
import Foundation
import WALBridge

/// `walbridge run`: stream the source into the target until stopped.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Stream every committed change of the mapped tables into the target, until stopped.",
        discussion: """
            Creates the publication and the slot on first run and the walbridge schema in the target.
            Resumes from the checkpoint in the target after a restart; lost connections are retried.
            With backfill: auto (the default) it also copies the rows that existed before, in chunks, while streaming.
            Ends cleanly on Ctrl-C or SIGTERM.
            """
    )

    @OptionGroup var options: ConfigOption

    @Flag(help: "Log only warnings and errors.")
    var quiet = false

    @Option(help: """
        Log lines as text or as one JSON object per line \
        (\(LogFormat.allCases.map(\.rawValue).joined(separator: ", "))).
        """)
    var logFormat: LogFormat = .text

    @Option(help: "Read at most this many rows per second while backfilling (default: backfill_rate, else no limit).")
    var maxRowsPerSecond: Int?

    @Option(help: "Rows per backfill chunk (default 10000); each chunk is one short source transaction.")
    var backfillChunkRows: Int?

    @Option(help: """
        Changes folded and written at a time, also inside one large source transaction (default 20000); \
        fewer bound memory.
        """)
    var applySliceRows: Int?

    @Option(
        help: "Exit after applying the last source transaction that commits at or before this LSN (e.g. 0/1A2B3C4).")
    var untilLsn: String?

    @Option(
        help:
            "Serve /metrics (Prometheus) and /healthz on host:port (default: the configuration's metrics:, else none).")
    var metrics: String?

    @Option(help: "Seconds of lag at which /healthz starts answering 503.")
    var maxHealthyLag: Int = 60

    func validate() throws {
        if let maxRowsPerSecond, maxRowsPerSecond < 1 {
            throw ValidationError("--max-rows-per-second must be at least 1")
        }
        if let backfillChunkRows, backfillChunkRows < 1 {
            throw ValidationError("--backfill-chunk-rows must be at least 1")
        }
        if let applySliceRows, applySliceRows < 1 { throw ValidationError("--apply-slice-rows must be at least 1") }
        if let untilLsn, WALPosition(untilLsn) == nil {
            throw ValidationError("--until-lsn \(untilLsn) is not an LSN such as 0/1A2B3C4")
        }
        if maxHealthyLag < 1 { throw ValidationError("--max-healthy-lag must be at least 1 second") }
    }

    func run() async throws {
        let logger = CommandLogging.logger(quiet: quiet, format: logFormat)
        var bridge = Bridge(configuration: options.load(), logger: logger)
        bridge.backfillLimits.rowsPerSecond = maxRowsPerSecond
        if let backfillChunkRows { bridge.backfillLimits.chunkRows = backfillChunkRows }
        if let applySliceRows { bridge.limits.sliceRows = applySliceRows }
        bridge.untilLSN = untilLsn.flatMap { WALPosition($0) }
        bridge.metricsAddress = metrics
        bridge.maxHealthyLag = .seconds(maxHealthyLag)
        if !quiet && logFormat == .text && isatty(STDERR_FILENO) == 1 {
            let bar = ProgressBar()
            bridge.onBackfillProgress = { bar.draw($0) }
        }
        // With reverse:, the same process runs the reverse direction, paused until walbridge cutover --reverse starts
        // it.
        var reverseLogger = logger
        reverseLogger[metadataKey: "direction"] = "reverse"
        let reverse = bridge.configuration.reversed.map { [reverseLogger, limits = bridge.limits] configuration in
            var reverse = Bridge(configuration: configuration, logger: reverseLogger)
            reverse.limits = limits
            reverse.startsPaused = true
            return reverse
        }
        try await CommandLogging.runUntilSignalled(logger: logger) { [bridge, reverse] in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await bridge.run() }
                if let reverse { group.addTask { try await reverse.run() } }
                // Either direction's end ends the process: a bridge stopped at --until-lsn, or one that failed.
                try await group.next()
                group.cancelAll()
            }
        }
    }
}
