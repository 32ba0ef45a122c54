import ArgumentParser
import WALBridge

/// `--reverse`: a command about the reverse direction (the new tables back to the legacy ones) instead of the forward
/// one.
struct DirectionOption: ParsableArguments {
    @Flag(help: "The reverse direction: the legacy tables against the reverse: mapping over the new ones.")
    var reverse = false

    /// The direction's configuration; with --reverse and no reverse: mapping the command ends with what to add.
    func pick(_ configuration: Configuration) -> Configuration {
        guard reverse else { return configuration }
        guard let reversed = configuration.reversed else {
            CommandLogging.fail(
                "--reverse needs a reverse: mapping in the configuration (the new tables back to the legacy ones)")
        }
        return reversed
    }
}
