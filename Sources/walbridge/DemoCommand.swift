import ArgumentParser
import WALBridge

/// `walbridge demo`: the whole migration on two throwaway local clusters, narrated.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the seed migration end to end on two throwaway local PostgreSQL clusters, narrating each step.",
        discussion: """
            Starts a legacy and a new cluster in a temporary folder (needs the PostgreSQL server programs), creates \
            the legacy schema with sample rows, runs the bridge with the example configuration while an application \
            keeps writing, moves reads to the new schema in steps (1%, 10%, 50%, 100%) comparing each with legacy, \
            pauses and resumes, verifies every row, drops the slot, and removes everything.
            """
    )

    @Flag(help: "Leave the clusters running at the end and print how to connect.")
    var keep = false

    @Option(help: "Legacy users to create (products: a tenth as many).")
    var users = 50_000

    func validate() throws {
        if users < 100 { throw ValidationError("--users must be at least 100") }
    }

    func run() async throws {
        let logger = CommandLogging.logger(quiet: true)
        try await CommandLogging.runUntilSignalled(logger: logger) { [users, keep] in
            try await Demo(users: users, keep: keep, logger: logger).run()
        }
    }
}
