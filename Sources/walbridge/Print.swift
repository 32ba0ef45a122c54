import Foundation

/// Writes a line to standard output and flushes it, as on a terminal, when the output is a log file or a pipe: a
/// command killed there leaves what it said, and its lines keep their order with standard error's. Every `print` of
/// the command-line tool is this one.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    Swift.print(items.map { "\($0)" }.joined(separator: separator), terminator: terminator)
    fflush(nil)
}
