import PGOutput

/// The rows of a chunk that go to the target at the high watermark, with the progress to record in the same
/// transaction.
struct BackfillChunk: Sendable, Equatable {
    var source: Int
    /// Rows in staged-column order, followed by the computed columns of `evaluation`'s targets.
    var rows: [[TupleValue]]
    /// The targets whose columns the source computed; nil when the rows hold the staged columns only.
    var evaluation: SourceEvaluation? = nil
    /// Each target's COPY data for exactly these rows, where encoded in advance.
    var payloads: [Int: CopyPayload] = [:]
    /// The high watermark's position.
    var lsn: LSN
    /// What the chunk records in `walbridge.backfill`.
    var progress: ChunkProgress
}

extension BackfillChunk {
    /// How target `index` takes the chunk by COPY alone, if it can: its direct copy (among `direct`), or the columns
    /// the source computed for it (a target is never both).
    func copyOnly(_ index: Int, direct: [DirectCopy?]) -> (any CopyOnlyTarget)? {
        direct[index] ?? evaluation?.targets[index]
    }

    /// The COPY data encoded in advance for target `index`, if it was encoded for `statement`.
    func payload(_ index: Int, for statement: String) -> [UInt8]? {
        payloads[index].flatMap { $0.statement == statement ? $0.data : nil }
    }

    /// The rows with the staged columns only (the first `staged` values), as the staging table and the stream take
    /// them.
    func stagedRows(_ staged: Int) -> [[TupleValue]] {
        evaluation == nil ? rows : rows.map { Array($0.prefix(staged)) }
    }
}
