import PGOutput

/// A chunk read from the source, waiting for the reader to reach its high watermark.
struct PendingChunk: Sendable {
    var seq: Int
    var source: Int
    var rows: [[TupleValue]]
    /// The targets whose columns the rows hold after the staged ones; nil for staged columns only.
    var evaluation: SourceEvaluation? = nil
    /// Each target's COPY data for all the rows, where encoded in advance.
    var payloads: [Int: CopyPayload] = [:]
    /// The snapshot the chunk was read with.
    var snapshot: SourceSnapshot
    /// The key the chunk started after (nil: the table's start), to read it again if it must be discarded.
    var after: [String]?
    /// The progress to record with the rows.
    var progress: ChunkProgress
}

extension PendingChunk {
    /// The rows to write at the window's high watermark, or nil when the chunk must be read again: a streamed
    /// transaction was open there, or a transaction the snapshot missed had committed before the window.
    func placement(in window: BackfillWindow, commits: RecentCommits, rowKey: [Int]) -> BackfillChunk? {
        let lagging = commits.contains(before: window.commitsBefore) { !snapshot.sees($0) }
        if window.interrupted || lagging { return nil }
        let kept = window.touched.isEmpty ? rows : rows.filter { !window.touched.contains(RowKey($0, at: rowKey)) }
        // Encoded for every row: of no use once some are dropped.
        return BackfillChunk(
            source: source, rows: kept, evaluation: evaluation, payloads: kept.count == rows.count ? payloads : [:],
            lsn: window.lsn, progress: progress)
    }
}
