import Logging
import PGClient
import PGOutput

/// One target session writing chunks to some targets.
actor ChunkSession {
    private let plan: MappingPlan
    private let target: PGConnection
    private let writer: SliceWriter

    init(plan: MappingPlan, target: PGConnection, writer: SliceWriter) {
        self.plan = plan
        self.target = target
        self.writer = writer
    }

    /// Writes rows of `source` to its `targets` in a transaction of its own: inserted if no target holds their keys,
    /// else upserted.
    func write(_ rows: [[TupleValue]], source: Int, targets: Set<Int>, lsn: LSN) async throws {
        let folded = rows.map { FoldedRow(operation: .upsert, values: $0, lsn: lsn) }
        // No flush wait: the apply session's commit of the chunk's checkpoint comes later and flushes the WAL before it.
        try await target.simpleQuery("BEGIN; SET LOCAL synchronous_commit = off; SAVEPOINT walbridge_chunk")
        do {
            do {
                try await insert(rows, folded, source: source, targets: targets)
            } catch let error as PGError where error.isRejection {
                // Usually a key the stream wrote already; a row the target truly rejects fails the upsert too.
                try await target.simpleQuery("ROLLBACK TO SAVEPOINT walbridge_chunk")
                try await writer.apply(folded, source: source, upsertOnly: true, targets: targets)
            }
            try await target.simpleQuery("COMMIT")
        } catch {
            _ = try? await target.simpleQuery("ROLLBACK")
            throw error
        }
    }

    func close() async {
        await target.close()
    }

    /// Writes the rows as plain inserts: straight by COPY where a target takes them so, else from the staging table.
    private func insert(_ rows: [[TupleValue]], _ folded: [FoldedRow], source: Int, targets: Set<Int>) async throws {
        let sourcePlan = plan.sources[source]
        let copies = await writer.copies[source]
        var staged = false
        for index in targets.sorted() {
            if let copy = copies[index], try await copy.suffices(for: rows, source: sourcePlan, on: target) {
                _ = try await target.copyIn(copy.statement, data: copy.data(rows))
                continue
            }
            if !staged {
                _ = try await target.copyIn("COPY \(sourcePlan.staging) FROM STDIN", data: StagingCopy.encode(folded, at: Array(folded.indices)))
                staged = true
            }
            let statement = writer.statements[source][index]
            _ = try await target.pipeline(([statement.deleteUnwanted, statement.insertAll] as [String?]).compactMap { $0 }.map { Statement($0) })
        }
        if staged { try await target.query("TRUNCATE \(sourcePlan.staging)") }
    }
}
