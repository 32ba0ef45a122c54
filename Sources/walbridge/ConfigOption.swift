import ArgumentParser
import Foundation
import WALBridge

/// The `--config FILE` option that every bridge command takes.
struct ConfigOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "The migration's configuration file (YAML).")
    var config: String = "walbridge.yml"

    /// Loads the file; a problem in it ends the command with one line per problem.
    func load() -> Configuration {
        do {
            return try Configuration.load(path: config)
        } catch {
            CommandLogging.fail("\(error)")
        }
    }
}
