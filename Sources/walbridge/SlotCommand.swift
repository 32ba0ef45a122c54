import ArgumentParser
import Foundation
import WALBridge

/// `walbridge slot`: the source's publication and replication slot.
struct SlotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slot",
        abstract: "Create, inspect or drop the source's replication slot and publication.",
        subcommands: [Create.self, Status.self, Drop.self]
    )

    /// `walbridge slot create`.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the publication (for the mapped tables) and the pgoutput slot; "
                + "does nothing if they exist.")

        @OptionGroup var options: ConfigOption

        func run() async throws {
            let configuration = options.load()
            let logger = CommandLogging.logger(quiet: false)
            try await CommandLogging.runUntilSignalled(logger: logger) {
                let slot = try await SlotAdmin.create(configuration, logger: logger)
                print(
                    "slot \(configuration.slot) and publication \(configuration.publication) "
                        + "are in place (confirmed_flush_lsn \(slot.confirmedFlushLSN ?? "-"))")
            }
        }
    }

    /// `walbridge slot status`.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the slot, the WAL it retains and the bridge's applied position and lag.")

        @OptionGroup var options: ConfigOption

        @Flag(help: "Print JSON for scripts.")
        var json = false

        func run() async throws {
            let configuration = options.load()
            let json = json
            try await CommandLogging.runUntilSignalled(logger: CommandLogging.logger(quiet: true)) {
                let status = try await BridgeStatus.read(configuration)
                if json { try StatusText.printJSON(status.sourceSlot) } else { print(StatusText.render(status)) }
            }
        }
    }

    /// `walbridge slot drop`.
    struct Drop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop the slot and the publication (at cut-over); refuses while a bridge is attached.")

        @OptionGroup var options: ConfigOption

        @Flag(help: "End the attached bridge's connection and drop anyway.")
        var force = false

        func run() async throws {
            let configuration = options.load()
            let force = force
            let logger = CommandLogging.logger(quiet: false)
            try await CommandLogging.runUntilSignalled(logger: logger) {
                let left = try await SlotAdmin.drop(configuration, force: force, logger: logger)
                print(
                    "slot \(configuration.slot) and publication \(configuration.publication) "
                        + "are gone from the source")
                if let summary = left.summary {
                    print(
                        "The target's walbridge schema still holds \(summary) for this slot; once done with them: "
                            + "DROP SCHEMA walbridge CASCADE (or delete the slot's rows).")
                }
            }
        }
    }
}
