import ArgumentParser
import WALBridge

/// `walbridge run`: stream the source into the target until stopped.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Stream every committed change of the mapped tables into the target, until stopped.",
        discussion: """
            Creates the publication and the slot on first run and the walbridge schema in the target.
            Resumes from the checkpoint in the target after a restart; lost connections are retried.
            Ends cleanly on Ctrl-C or SIGTERM.
            """
    )

    @OptionGroup var options: ConfigOption

    @Flag(help: "Log only warnings and errors.")
    var quiet = false

    func run() async throws {
        let logger = CommandLogging.logger(quiet: quiet)
        let bridge = Bridge(configuration: options.load(), logger: logger)
        try await CommandLogging.runUntilSignalled(logger: logger) {
            try await bridge.run()
        }
    }
}
