import Foundation
import Logging
import PGClient
import PGOutput

/// The source query of a table's chunks: the staged columns of the next rows in row-key order, through COPY, and the
/// target columns the source computes (see `SourceEvaluation`).
struct ChunkQuery: Sendable {
    let plan: SourcePlan
    let evaluation: SourceEvaluation?
    private let select: String
    private let selectComputed: String?
    private let keys: String
    private let bounds: String

    /// What a read returns.
    struct Chunk {
        /// Staged columns, then the computed ones when `evaluation` is set.
        var rows: [[TupleValue]]
        var snapshot: SourceSnapshot
        /// The computed targets, nil when the rows hold the staged columns only.
        var evaluation: SourceEvaluation?
        /// The bytes COPY sent.
        var bytes: Int
    }

    init(_ plan: SourcePlan, evaluation: SourceEvaluation? = nil) {
        self.plan = plan
        self.evaluation = evaluation
        let q = SQLQuoting.identifier
        keys = plan.rowKey.map { q(plan.stagedColumns[$0].name) }.joined(separator: ", ")
        // COPY takes no parameters: the last key goes in as transaction-local settings, bound like any value.
        bounds = plan.rowKey.indices.map {
            "current_setting('walbridge.after_\($0)')::\(plan.stagedColumns[plan.rowKey[$0]].typeSQL)"
        }.joined(separator: ", ")
        let columns = plan.stagedColumns.map { q($0.name) }
        select = "SELECT \(columns.joined(separator: ", ")) FROM \(plan.info.ownRows)"
        selectComputed = evaluation.map {
            "SELECT \((columns + $0.select).joined(separator: ", ")) FROM \(plan.info.ownRows)"
        }
    }

    /// `COPY (select …) TO STDOUT` of the `limit` rows after the bound (or from the start).
    private func statement(_ select: String, after: [String]?, limit: Int) -> String {
        let range = after == nil ? "" : " WHERE (\(keys)) > (\(bounds))"
        return "COPY (\(select)\(range) ORDER BY \(keys) LIMIT \(limit)) TO STDOUT"
    }

    /// The `limit` rows after `after` (from the start when nil), read in one REPEATABLE READ transaction, and its
    /// snapshot; with the computed columns unless an expression failed on the source, in which case the chunk is read
    /// without them.
    func read(after: [String]?, limit: Int, on source: PGConnection, logger: Logger) async throws -> Chunk {
        if let evaluation, let selectComputed {
            do {
                return try await read(
                    after: after, statement: statement(selectComputed, after: after, limit: limit),
                    evaluation: evaluation, on: source)
            } catch let error as PGError where error.kind == .server {
                logger.info(
                    "backfill chunk read again without computing on the source",
                    metadata: ["table": "\(plan.info.table)", "error": "\(error.message)"])
            }
        }
        return try await read(
            after: after, statement: statement(select, after: after, limit: limit), evaluation: nil, on: source)
    }

    private func read(
        after: [String]?, statement: String, evaluation: SourceEvaluation?, on source: PGConnection
    ) async throws -> Chunk {
        let data: [UInt8]
        let snapshot: String
        do {
            var setup = [
                Statement("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
                Statement("SELECT pg_current_snapshot()::text")
            ]
            for (index, value) in (after ?? []).enumerated() {
                setup.append(Statement("SELECT set_config($1, $2, true)", ["walbridge.after_\(index)", value]))
            }
            for setting in evaluation?.settings ?? [] {
                setup.append(Statement("SELECT set_config($1, $2, true)", [setting.name, setting.value]))
            }
            snapshot = try await source.pipeline(setup)[1].scalar ?? ""
            data = try await source.copyOut(statement)
            try await source.query("COMMIT")
        } catch {
            _ = try? await source.simpleQuery("ROLLBACK")
            throw error
        }
        let columns = plan.stagedColumns.count + (evaluation?.select.count ?? 0)
        return Chunk(
            rows: try CopyText.rows(data, columns: columns), snapshot: try SourceSnapshot.parsing(snapshot),
            evaluation: evaluation, bytes: data.count)
    }
}
