import ArgumentParser
import Foundation
import WALBridge

/// `walbridge check`: validate a configuration against both databases and print the plan.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the configuration against the source and target and print the SQL each change will run.",
        discussion: "Exits 0 only if every check passes."
    )

    @OptionGroup var options: ConfigOption

    @Option(help: "Legacy rows per table that the round trip through reverse: is proven on.")
    var roundTripSample = RoundTrip.defaultSample

    func validate() throws {
        guard roundTripSample > 0 else { throw ValidationError("--round-trip-sample must be at least 1") }
    }

    func run() async throws {
        let configuration = options.load()
        let logger = CommandLogging.logger(quiet: true)
        try await CommandLogging.runUntilSignalled(logger: logger) {
            let report = try await Check.run(configuration, roundTripSample: roundTripSample)
            var out = report.plan
            if !report.roundTrip.isEmpty { out += ["round trip:"] + report.roundTrip.map { "  \($0)" } }
            out += report.notes.map { "note: \($0)" }
            out.append(
                report.problems.isEmpty
                    ? "check passed"
                    : "check failed: \(report.problems.count) problem\(report.problems.count == 1 ? "" : "s")")
            print(out.joined(separator: "\n"))
            if !report.problems.isEmpty {
                FileHandle.standardError.write(Data(report.problems.map { "walbridge: error: \($0)\n" }.joined().utf8))
                throw ExitCode.failure
            }
        }
    }
}
