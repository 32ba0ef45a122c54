import Logging
import PGClient
import PGOutput

/// One target session writing chunks to some targets.
actor ChunkSession {
    private let plan: MappingPlan
    private let target: PGConnection
    private let writer: SliceWriter
    /// The bridge's marker, written first in each chunk transaction when the other direction must skip it.
    private let marker: Statement?

    init(plan: MappingPlan, target: PGConnection, writer: SliceWriter, marker: Statement?) {
        self.plan = plan
        self.target = target
        self.writer = writer
        self.marker = marker
    }

    /// Writes the chunk's rows to its source's `targets` in a transaction of its own: inserted if no target holds their
    /// keys, else upserted. Returns the rejection when the target refuses a row even as an upsert (nothing is written
    /// then).
    func write(_ chunk: BackfillChunk, targets: Set<Int>) async throws -> PGError? {
        let staged = plan.sources[chunk.source].stagedColumns.count
        // Only the staging table needs them (without the computed columns), so they are made when it is used.
        let folded = { chunk.stagedRows(staged).map { FoldedRow(operation: .upsert, values: $0, lsn: chunk.lsn) } }
        // No flush wait: the apply session's commit of the chunk's checkpoint comes later and flushes the WAL before
        // it.
        _ = try await target.pipeline(
            [Statement("BEGIN"), Statement("SET LOCAL synchronous_commit = off")]
                + (plan.foreignKeys.deferral.map { [$0] } ?? [])
                + (marker.map { [$0] } ?? []) + [Statement("SAVEPOINT walbridge_chunk")])
        do {
            do {
                try await insert(chunk, folded, targets: targets)
            } catch let error as PGError where error.isRejection {
                // Usually a key the stream wrote already; a row the target truly rejects fails the upsert too.
                try await target.simpleQuery("ROLLBACK TO SAVEPOINT walbridge_chunk")
                do {
                    try await writer.apply(folded(), source: chunk.source, upsertOnly: true, targets: targets)
                } catch let rejection as PGError where rejection.isRejection {
                    try await target.simpleQuery("ROLLBACK")
                    return rejection
                }
            }
            do {
                try await target.simpleQuery("COMMIT")
            } catch let rejection as PGError where rejection.isRejection {
                // A deferred constraint: the transaction is gone, nothing of it was written.
                return rejection
            }
            return nil
        } catch {
            _ = try? await target.simpleQuery("ROLLBACK")
            throw error
        }
    }

    func close() async {
        await target.close()
    }

    /// Writes the rows as plain inserts: straight by COPY where a target takes them so or the source computed its
    /// columns, else from the staging table.
    private func insert(_ chunk: BackfillChunk, _ folded: () -> [FoldedRow], targets: Set<Int>) async throws {
        let sourcePlan = plan.sources[chunk.source]
        let copies = await writer.copies[chunk.source]
        var staged = false
        let parentsFirst = plan.writeGroups(of: chunk.source).flatMap { $0 }
        for index in parentsFirst where targets.contains(index) {
            if let copy = chunk.copyOnly(index, direct: copies),
                try await copy.suffices(for: chunk.rows, source: sourcePlan, on: target) {
                _ = try await target.copyIn(
                    copy.statement, data: chunk.payload(index, for: copy.statement) ?? copy.data(chunk.rows))
                continue
            }
            if !staged {
                let rows = folded()
                _ = try await target.copyIn(
                    "COPY \(sourcePlan.staging) FROM STDIN", data: StagingCopy.encode(rows, at: Array(rows.indices)))
                staged = true
            }
            let statement = writer.statements[chunk.source][index]
            _ = try await target.pipeline(
                ([statement.deleteUnwanted, statement.insertAll] as [String?]).compactMap { $0 }.map { Statement($0) })
        }
        if staged { try await target.query("TRUNCATE \(sourcePlan.staging)") }
    }
}
