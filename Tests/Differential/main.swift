import Foundation

/// Entry point: parse the options, run the cases, exit 1 on any failure.
Children.killOnSignals()
guard let options = Options.parse(Array(CommandLine.arguments.dropFirst())) else { exit(2) }
let status = await Differential(options: options).run()
exit(status)
