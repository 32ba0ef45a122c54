import Foundation
import Logging
import PGClient
import PGOutput

/// Lists and retries the changes the target rejected under `on_error: dead_letter`.
public enum DeadLetterQueue {
    /// The dead letters of the configuration's slot not yet retried successfully, oldest first.
    public static func list(_ configuration: Configuration) async throws -> [DeadLetter] {
        try await SourceCheck.connect(configuration.target, role: "target").closing { target in
            try await StateSchema.ensure(on: target)
            return try await DeadLetters.list(slot: configuration.slot, on: target)
        }
    }

    /// Re-applies each dead letter's row as the source holds it now (or deletes it from the targets if the
    /// source no longer has it), each in its own transaction; a success marks the letter retried.
    public static func retry(
        _ configuration: Configuration, ids: [Int]? = nil, logger: Logger
    ) async throws -> [RetryOutcome] {
        let letters = try await list(configuration).filter { ids == nil || ids!.contains($0.id) }
        guard !letters.isEmpty else { return [] }
        let (tables, sourceIdentity) = try await SourceCheck.connect(configuration.source).closing { source in
            (
                try await SourceSetup.describeTables(configuration, on: source),
                try await SourceSetup.databaseIdentity(source)
            )
        }
        let sourceRows = SourceRows(source: configuration.source)
        do {
            let outcomes = try await retryOnTarget(letters, configuration, tables, sourceIdentity, sourceRows, logger)
            await sourceRows.close()
            return outcomes
        } catch {
            await sourceRows.close()
            throw error
        }
    }

    /// Connects to the target, prepares an applier, and retries each letter.
    private static func retryOnTarget(
        _ letters: [DeadLetter], _ configuration: Configuration, _ tables: [TableName: SourceTableInfo],
        _ sourceIdentity: String, _ sourceRows: SourceRows, _ logger: Logger
    ) async throws -> [RetryOutcome] {
        try await SourceCheck.connect(configuration.target, role: "target").closing { target in
            try await target.simpleQuery(WriteFence.bypass)
            let sameDatabase = try await SourceSetup.databaseIdentity(target) == sourceIdentity
            let built = try MappingPlan.build(configuration, sourceTables: tables, sameDatabase: sameDatabase)
            let plan = try await TargetCatalog.read(into: built, backfill: configuration.backfill, on: target)
            let writer = SliceWriter(plan: plan, target: target, sourceRows: sourceRows, logger: logger)
            try await writer.prepare(copies: try await DirectCopy.plan(plan, on: target))
            // Where the target is the source (or the reverse direction's), the mark keeps the retry from being applied
            // again.
            let begin = [Statement("BEGIN")] + (plan.foreignKeys.deferral.map { [$0] } ?? [])
                + (TransactionReader.marker(for: configuration, sameDatabase: sameDatabase).map { [$0] } ?? [])
            return try await retryEach(letters, plan: plan, writer: writer, begin: begin, on: target)
        }
    }

    /// Retries each letter in its own transaction, opened by `begin`.
    private static func retryEach(
        _ letters: [DeadLetter], plan: MappingPlan, writer: SliceWriter, begin: [Statement], on target: PGConnection
    ) async throws -> [RetryOutcome] {
        var outcomes: [RetryOutcome] = []
        for letter in letters {
            guard let index = plan.sources.firstIndex(where: { $0.info.table.description == letter.sourceTable }),
                  let key = keyValues(letter.key, plan.sources[index])
            else {
                outcomes.append(
                    RetryOutcome(
                        id: letter.id, error: "\(letter.sourceTable) is no longer mapped, or the key cannot be read"))
                continue
            }
            do {
                _ = try await target.pipeline(begin)
                try await writer.resync(source: index, keys: [key])
                _ = try await target.pipeline([
                    DeadLetters.markRetried(id: letter.id), Statement("COMMIT"),
                ])
                outcomes.append(RetryOutcome(id: letter.id, error: nil))
            } catch let error as PGError where error.kind == .server {
                _ = try? await target.simpleQuery("ROLLBACK")
                outcomes.append(RetryOutcome(id: letter.id, error: error.description))
            }
        }
        return outcomes
    }

    /// The row-key values, in row-key order, from the JSON object stored with the letter.
    private static func keyValues(_ json: String, _ plan: SourcePlan) -> [TupleValue]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            return nil
        }
        var values: [TupleValue] = []
        for index in plan.rowKey {
            guard let text = object[plan.stagedColumns[index].name] as? String else { return nil }
            values.append(.text(ArraySlice(text.utf8)))
        }
        return values
    }
}
