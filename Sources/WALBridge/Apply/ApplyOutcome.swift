import PGClient
import PGOutput

/// How the applier ended, when it ended without an error of its own.
enum ApplyOutcome: Sendable {
    /// The queue ended, or a halt stopped it at a transaction boundary: everything complete before that is committed.
    case finished
    /// A batch reached past a pause position asked while it was read: it was rolled back, to be applied again up to it.
    case stopRequested
    /// The target refused a batch: replay from the checkpoint one change at a time until past `through`, to find and
    /// handle the change at fault.
    case replayInOrder(through: LSN, cause: PGError)
    /// A streamed transaction needed a row read back before the source committed it: replay without streaming.
    case disableStreaming(StreamingFallback)
}
