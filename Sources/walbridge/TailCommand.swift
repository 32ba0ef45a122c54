import ArgumentParser
import Foundation
import Logging
import WALBridge

/// `walbridge tail`: a live, readable view of a publication's changes.
struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print a publication's committed changes as they happen, in commit order.",
        discussion: """
            Reads through a temporary replication slot, so it never moves a slot that a bridge depends on.
            With --slot it reads an existing pgoutput slot and acknowledges nothing, so the slot stays where it is.
            Ends cleanly (exit 0) on Ctrl-C or SIGTERM.
            """
    )

    /// How each change is printed.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, text
    }

    @Option(help: "Source database: libpq connection string or postgresql:// URI (default: $WALBRIDGE_SOURCE).")
    var source: String?

    @Option(help: "Publication to read; repeat it to read several.")
    var publication: [String]

    @Option(help: "Read this existing slot instead of a temporary one, without acknowledging anything.")
    var slot: String?

    @Option(help: "Output format: json (one object per line) or text (compact, for people).")
    var format: Format = .json

    @Flag(help: "Log only warnings and errors on stderr.")
    var quiet = false

    func validate() throws {
        if publication.isEmpty { throw ValidationError("name at least one --publication") }
    }

    func run() async throws {
        let logger = CommandLogging.logger(quiet: quiet)
        let options: TailOptions
        do {
            guard let source = source ?? ProcessInfo.processInfo.environment["WALBRIDGE_SOURCE"] else {
                throw ValidationError("give --source or set WALBRIDGE_SOURCE")
            }
            options = TailOptions(source: try DatabaseAddress(source), publications: publication, slot: slot)
        } catch let error as BridgeError {
            throw ValidationError("--source: \(error)")
        }
        let format = format
        let tail = Tail(options: options, logger: logger)
        let output = StandardOutput()
        try await CommandLogging.runUntilSignalled(logger: logger) {
            try await tail.run { events in
                let lines = events.map { format == .json ? $0.json : $0.text }
                try output.write(lines.joined(separator: "\n") + "\n")
            }
        }
    }
}

/// Writes whole batches to standard output; a closed pipe ends the command quietly.
final class StandardOutput: Sendable {
    /// Writes `text` at once.
    func write(_ text: String) throws {
        do {
            try FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
        } catch {
            throw CancellationError()
        }
    }
}
