import PGClient
import PGOutput

/// What the reader saw of the mapped changes between a chunk's low and high watermark.
struct BackfillWindow: Sendable, Equatable {
    var seq: Int
    var source: Int
    /// The high watermark's position.
    var lsn: LSN
    /// Keys of the chunk's table that transactions committed inside the window changed.
    var touched: Set<RowKey> = []
    /// How many commits the reader had seen at the low watermark: those before it are checked against the chunk's
    /// snapshot.
    var commitsBefore = 0
    /// The chunk cannot be placed at the high watermark: a streamed transaction was open at either watermark, or its
    /// table was truncated in the window.
    var interrupted = false
}
