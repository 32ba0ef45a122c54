import ArgumentParser
import WALBridge

/// `walbridge backfill`: copy a table's existing rows again.
struct BackfillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Start or restart the backfill of one or all mapped tables (for a mapping added mid-migration).",
        discussion: """
            The copy itself runs inside `walbridge run`, next to the stream: a running bridge starts it within a second,
            a stopped one when it next starts. Progress is in walbridge.backfill in the target.
            """
    )

    @OptionGroup var options: ConfigOption

    @Option(help: "The source table to copy again, as in the configuration (default: every mapped table).")
    var table: String?

    func run() async throws {
        let configuration = options.load()
        let logger = CommandLogging.logger(quiet: true)
        var name: TableName?
        if let table {
            guard let parsed = TableName(parsing: table) else {
                throw ValidationError("--table \(table) is not a table name")
            }
            name = parsed
        }
        try await CommandLogging.runUntilSignalled(logger: logger) { [name] in
            let (tables, running) = try await BackfillRequest.request(configuration, table: name)
            for progress in tables where name == nil || progress.table == name?.description {
                print("\(progress.table): backfill \(progress.state)")
            }
            print(
                running
                    ? "The running bridge starts copying within a second."
                    : "No bridge is attached to slot \(configuration.slot): the copy starts with "
                        + "the next `walbridge run`.")
        }
    }
}
