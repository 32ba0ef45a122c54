import PGClient

/// One table's row in `walbridge.backfill`.
struct BackfillJob: Sendable {
    /// Bumped by `walbridge backfill` to start the table over; progress of an older request is not recorded.
    var request: Int
    /// The last row key copied (as text, in row-key order); nil before the first chunk.
    var lastKey: [String]?
}
