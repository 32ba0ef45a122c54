import ArgumentParser
import Foundation
import WALBridge

/// `walbridge verify`: compare the target with the mapping evaluated over the source.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Compare every target table with the mapping evaluated over the source; exit 1 if any row differs.",
        discussion: """
            Waits until a streaming bridge has applied the source up to the moment verify starts; a paused or stopped \
            bridge is verified as it stands. Compares hashes of key buckets on each server, then only the rows of \
            buckets that differ; prints each differing row (table, key, column, \
            source and target value) and a summary. \
            A value longer than 80 characters shows its first 60, its length as length() counts it and the start of \
            its md5() (e.g. 'xxx…' (200000 characters, md5 4b981467)), and where the two values first differ.
            """
    )

    @OptionGroup var options: ConfigOption

    @Option(help: "Compare the rows of N random keys from each side instead of every row.")
    var sample: Int?

    @Option(help: "Seconds to wait for the bridge to catch up before comparing.")
    var timeout: Int = 60

    @OptionGroup var direction: DirectionOption

    /// Differing rows printed per table; the summary counts them all.
    static let shownPerTable = 100

    func validate() throws {
        if let sample, sample < 1 { throw ValidationError("--sample must be at least 1") }
        if timeout < 1 { throw ValidationError("--timeout must be at least 1 second") }
    }

    func run() async throws {
        let logger = CommandLogging.logger(quiet: true)
        var verifier = Verifier(configuration: direction.pick(options.load()))
        verifier.sample = sample
        verifier.timeout = .seconds(timeout)
        if isatty(STDERR_FILENO) == 1 {
            verifier.onTable = { table, done, total in
                let bar = ProgressBar.bar(Double(done) / Double(max(total, 1)))
                FileHandle.standardError.write(
                    Data("""
                        \r\u{1B}[Kverify [\(bar)] \(done)/\(total) tables, \
                        \(table.table) done\(done == total ? "\n" : "")
                        """.utf8))
            }
        }
        try await CommandLogging.runUntilSignalled(logger: logger) { [verifier] in
            let report = try await verifier.run()
            print(VerifyText.render(report, shownPerTable: Self.shownPerTable))
            if report.mismatchCount > 0 { throw ExitCode.failure }
        }
    }
}

/// `walbridge verify`'s report for people.
enum VerifyText {
    static func render(_ report: VerifyReport, shownPerTable: Int) -> String {
        var lines = ["verify: \(report.point)"]
        for table in report.tables {
            let compared = report.sample == nil ? "\(table.rows) rows" : "\(table.rows) sampled keys"
            let kept =
                table.keptByOnDeleteIgnore > 0 ? ", \(table.keptByOnDeleteIgnore) rows kept by on_delete: ignore" : ""
            lines.append(
                "\(table.table): \(compared), \(table.mismatches.count) "
                    + "mismatch\(table.mismatches.count == 1 ? "" : "es")\(kept)")
            lines += table.mismatches.prefix(shownPerTable).map { "  \($0)" }
            if table.mismatches.count > shownPerTable {
                lines.append("  … and \(table.mismatches.count - shownPerTable) more")
            }
        }
        let rows = report.tables.reduce(0) { $0 + $1.rows }
        lines.append(String(
            format: "summary: %d tables, %d %@ compared in %.1f s, mismatches: %d",
                report.tables.count, rows, report.sample == nil ? "rows" : "sampled keys", report.seconds,
                report.mismatchCount))
        return lines.joined(separator: "\n")
    }
}
