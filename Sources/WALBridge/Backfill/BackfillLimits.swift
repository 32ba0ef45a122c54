import Foundation
import Logging
import PGClient
import PGOutput

/// How the backfill reads the source.
public struct BackfillLimits: Sendable {
    /// Rows per chunk; each chunk is one short source transaction.
    public var chunkRows = 10_000
    /// Bytes a chunk holds at about the most: chunks of wide rows (TOASTed columns) have fewer rows.
    public var chunkBytes = 8 << 20
    /// Rows read per second at the most; nil for no limit.
    public var rowsPerSecond: Int?
    /// Chunks read ahead of the stream.
    public var chunksAhead = 3
    /// Target sessions that write a chunk's rows side by side (when the target is not the source database).
    public var writerSessions = 2

    /// The defaults.
    public init() {}
}
