import ArgumentParser
import Foundation
import WALBridge

/// `walbridge dlq`: inspect and retry the changes the target rejected.
struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect and retry the changes the target rejected (on_error: dead_letter).",
        subcommands: [List.self, Retry.self]
    )

    /// `walbridge dlq list`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the dead letters not yet retried, oldest first.")

        @OptionGroup var options: ConfigOption
        @OptionGroup var direction: DirectionOption

        func run() async throws {
            let configuration = direction.pick(options.load())
            let logger = CommandLogging.logger(quiet: true)
            try await CommandLogging.runUntilSignalled(logger: logger) {
                let letters = try await DeadLetterQueue.list(configuration)
                for letter in letters {
                    let target = letter.targetTable.map { " → \($0)" } ?? ""
                    print(
                        "#\(letter.id) \(letter.createdAt) LSN \(letter.lsn) \(letter.operation) "
                            + "\(letter.sourceTable)\(target) key \(letter.key): \(letter.error)")
                }
                print("\(letters.count) dead letter\(letters.count == 1 ? "" : "s")")
            }
        }
    }

    /// `walbridge dlq retry`.
    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-apply dead-lettered rows as the source holds them now; a success marks the letter retried.",
            discussion: "Exits 1 if any row is still rejected.")

        @OptionGroup var options: ConfigOption
        @OptionGroup var direction: DirectionOption

        @Option(name: .customLong("id"), help: "Retry only this dead letter; repeat for several (default: all).")
        var ids: [Int] = []

        func run() async throws {
            let configuration = direction.pick(options.load())
            let logger = CommandLogging.logger(quiet: true)
            let ids = ids
            try await CommandLogging.runUntilSignalled(logger: logger) {
                let outcomes = try await DeadLetterQueue.retry(
                    configuration, ids: ids.isEmpty ? nil : ids, logger: logger)
                for outcome in outcomes {
                    print("#\(outcome.id): \(outcome.error.map { "still rejected: \($0)" } ?? "applied")")
                }
                let failed = outcomes.filter { $0.error != nil }.count
                print("\(outcomes.count - failed) applied, \(failed) still rejected")
                if failed > 0 { throw ExitCode.failure }
            }
        }
    }
}
