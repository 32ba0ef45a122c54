/// What a backfill chunk records in `walbridge.backfill` when its rows commit: how far its table's copy got.
struct ChunkProgress: Sendable, Equatable {
    var table: TableName
    /// The table's request number the chunk was read for; a newer request makes this progress stale.
    var request: Int
    /// The chunk's last row key, as text in row-key order; nil for an empty table.
    var lastKey: [String]?
    var rows: Int
    /// Whether this was the table's last chunk.
    var done: Bool
}
