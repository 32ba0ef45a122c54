import PGClient
import PGOutput

/// A target that a backfill chunk's new rows can reach by COPY alone: a direct copy of source columns, or the columns
/// the source computed (`SourceEvaluation.Target`).
protocol CopyOnlyTarget: Sendable {
    /// `COPY target (columns) FROM STDIN …`.
    var statement: String { get }
    /// For a target with a `when`: whether it may hold a chunk's keys, whose rows a false `when` must remove.
    var probe: DirectCopy.Probe? { get }
    /// The COPY data of `rows` (chunk rows) for this target.
    func data(_ rows: [[TupleValue]]) -> [UInt8]
}

extension CopyOnlyTarget {
    /// Whether COPY alone writes `rows` (a backfill chunk, in row-key order) as the staged statements would.
    func suffices(for rows: [[TupleValue]], source: SourcePlan, on target: PGConnection) async throws -> Bool {
        try await probe?.allowsCopy(of: rows, source: source, on: target) ?? true
    }
}
