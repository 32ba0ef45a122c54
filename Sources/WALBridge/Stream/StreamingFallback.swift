import Logging
import PGOutput

/// The streamed chunks can't be applied as they came: roll back and replay from the checkpoint without streaming.
struct StreamingFallback: Error, CustomStringConvertible {
    var reason: String
    var at: LSN

    var description: String { "\(reason) at LSN \(at)" }
}
