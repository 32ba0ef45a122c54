import Foundation
import Logging
import PGClient
import PGOutput

/// The source query of a table's chunks: the staged columns of the next rows in row-key order, through COPY.
struct ChunkQuery: Sendable {
    let plan: SourcePlan
    let limit: Int
    private let first: String
    private let next: String

    init(_ plan: SourcePlan, limit: Int) {
        self.plan = plan
        self.limit = limit
        let q = SQLQuoting.identifier
        let keys = plan.rowKey.map { q(plan.stagedColumns[$0].name) }.joined(separator: ", ")
        // COPY takes no parameters: the last key goes in as transaction-local settings, bound like any value.
        let bounds = plan.rowKey.indices.map { "current_setting('walbridge.after_\($0)')::\(plan.stagedColumns[plan.rowKey[$0]].typeSQL)" }
        let select = "SELECT \(plan.stagedColumns.map { q($0.name) }.joined(separator: ", ")) FROM \(plan.info.table.quoted)"
        first = "COPY (\(select) ORDER BY \(keys) LIMIT \(limit)) TO STDOUT"
        next = "COPY (\(select) WHERE (\(keys)) > (\(bounds.joined(separator: ", "))) ORDER BY \(keys) LIMIT \(limit)) TO STDOUT"
    }

    /// The rows after `after` (from the start when nil), read in one REPEATABLE READ transaction, and its snapshot.
    func read(after: [String]?, on source: PGConnection) async throws -> (rows: [[TupleValue]], snapshot: SourceSnapshot) {
        let data: [UInt8]
        let snapshot: String
        do {
            var setup = [Statement("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"), Statement("SELECT pg_current_snapshot()::text")]
            for (index, value) in (after ?? []).enumerated() {
                setup.append(Statement("SELECT set_config($1, $2, true)", ["walbridge.after_\(index)", value]))
            }
            snapshot = try await source.pipeline(setup)[1].scalar ?? ""
            data = try await source.copyOut(after == nil ? first : next)
            try await source.query("COMMIT")
        } catch {
            _ = try? await source.simpleQuery("ROLLBACK")
            throw error
        }
        return (try CopyText.rows(data, columns: plan.stagedColumns.count), try SourceSnapshot.parsing(snapshot))
    }
}
