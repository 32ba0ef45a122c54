import ArgumentParser
import WALBridge

/// The `walbridge` command and its subcommands.
@main
struct WALBridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "walbridge",
        abstract: "Replace dual writes with the write-ahead log: stream a legacy PostgreSQL database's "
            + "changes into a new schema.",
        version: walbridgeVersion,
        subcommands: [
            DemoCommand.self, RunCommand.self, CheckCommand.self, BackfillCommand.self, StatusCommand.self,
            PauseCommand.self, ResumeCommand.self,
            VerifyCommand.self, CutoverCommand.self, RollbackCommand.self, SlotCommand.self, TailCommand.self,
            DeadLetterCommand.self,
        ]
    )
}
