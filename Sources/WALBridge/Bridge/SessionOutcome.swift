import PGClient
import PGOutput

/// Why a session of the stream ended, when no error ended it.
enum SessionOutcome: Sendable {
    /// The bridge is shutting down.
    case cancelled
    /// At a transaction boundary, for a pause asked for now.
    case paused
    /// Past the stop position: every transaction committing at or before it was applied.
    case reachedStop(LSN)
    /// A batch reached past a pause position asked while it was read; it was rolled back, and the next session
    /// stops at that position.
    case stopRequested
    /// The target refused a batch: the next session replays in order through `through`.
    case replayInOrder(through: LSN, cause: PGError)
    /// Streamed changes could not be applied as they came: the next sessions replay without streaming.
    case disableStreaming(StreamingFallback)
}
