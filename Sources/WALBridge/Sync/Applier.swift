import Logging
import PGClient
import PGOutput

/// How large the applier lets its work grow.
public struct ApplyLimits: Sendable {
    /// Changes folded and staged at a time (also inside one large source transaction).
    public var sliceRows = 20_000
    /// Changes after which the open target transaction commits at the next source commit.
    public var batchRows = 20_000
    /// Time after which the open target transaction commits at the next source commit.
    public var batchTime: Duration = .milliseconds(50)

    /// The defaults.
    public init() {}
}

/// The set-based apply of a batch failed on the target: replay from the checkpoint in order,
/// one change at a time, until past `through`, to find and handle the change at fault.
struct OrderedReplay: Error {
    var through: LSN
    var cause: PGError
}

/// Applies source changes to the target. Many source transactions share one target transaction
/// (never splitting one); changes are folded per row, staged with COPY and applied set-based; the
/// checkpoint is written in the same transaction, so nothing is applied twice or lost.
final class Applier {
    private let plan: MappingPlan
    private let target: PGConnection
    private let sourceRows: SourceRows
    private let slot: String
    private let markWrites: Bool
    private let onError: OnError
    private let limits: ApplyLimits
    private let logger: Logger
    private let statements: [[TargetStatements]]

    /// Replay in order (one change at a time, one target transaction per source transaction) until a commit past this.
    private var orderedThrough: LSN?
    private var open = false
    private var pending: [(source: Int, change: RowChange)] = []
    private var batchStart = ContinuousClock.now
    private var batchRows = 0
    private var lastEnd: TransactionEnd?
    private var midTransaction = false
    private var highest = LSN.zero
    /// The position up to which the target durably holds everything: safe to report to the source.
    private(set) var durable: LSN

    /// An applier writing to `target`, starting from the checkpoint `durable`.
    init(
        plan: MappingPlan, target: PGConnection, sourceRows: SourceRows, slot: String, markWrites: Bool,
        onError: OnError, limits: ApplyLimits, logger: Logger, durable: LSN, orderedThrough: LSN?
    ) {
        self.plan = plan
        self.target = target
        self.sourceRows = sourceRows
        self.slot = slot
        self.markWrites = markWrites
        self.onError = onError
        self.limits = limits
        self.logger = logger
        self.durable = durable
        self.orderedThrough = orderedThrough
        statements = plan.sources.map { source in source.targets.map { source.statements(for: $0) } }
    }

    /// Sets up the target session: durable commits and one staging table per source table.
    func prepare() async throws {
        try await target.simpleQuery("SET synchronous_commit = on")
        for source in plan.sources {
            try await target.query(source.createStaging(types: try await TargetCheck.stagingTypes(source, on: target)))
        }
    }

    /// Applies events until the queue ends; publishes the durable position after every commit.
    func run(_ queue: AsyncBoundedQueue<[ApplyEvent]>, report: @Sendable (LSN) -> Void) async throws {
        do {
            try await applyAll(queue, report: report)
            await sourceRows.close()
        } catch {
            await sourceRows.close()
            throw error
        }
    }

    private func applyAll(_ queue: AsyncBoundedQueue<[ApplyEvent]>, report: @Sendable (LSN) -> Void) async throws {
        do {
            while let events = try await queue.next() {
                for event in events { try await handle(event, report: report) }
                if await queue.count == 0, !midTransaction, open || !pending.isEmpty {
                    try await commitBatch(report: report)
                }
            }
            if !midTransaction && (open || !pending.isEmpty) { try await commitBatch(report: report) }
            await rollback()
        } catch let error as PGError where error.kind == .server && orderedThrough == nil {
            await rollback()
            throw OrderedReplay(through: highest, cause: error)
        } catch {
            await rollback()
            throw error
        }
    }

    private func handle(_ event: ApplyEvent, report: @Sendable (LSN) -> Void) async throws {
        switch event {
        case .change(let source, let change):
            midTransaction = true
            if change.lsn > highest { highest = change.lsn }
            if orderedThrough != nil {
                try await applyOrdered(source, change)
            } else {
                pending.append((source, change))
                if pending.count >= limits.sliceRows { try await applySlice() }
            }
        case .truncate(let sources, let lsn):
            midTransaction = true
            if lsn > highest { highest = lsn }
            try await applySlice()
            try await truncate(sources, at: lsn)
        case .commit(let end):
            midTransaction = false
            if end.endLSN > highest { highest = end.endLSN }
            if let through = orderedThrough {
                if open { try await commitBatch(end, report: report) } else { advance(end.endLSN, report) }
                if end.endLSN > through {
                    orderedThrough = nil
                    logger.info("ordered replay done, back to batched apply", metadata: ["lsn": "\(end.endLSN)"])
                }
                return
            }
            lastEnd = end
            if !open && pending.isEmpty {
                advance(end.endLSN, report)
            } else if batchRows + pending.count >= limits.batchRows || ContinuousClock.now - batchStart >= limits.batchTime {
                try await commitBatch(report: report)
            }
        case .idle(let lsn):
            if !open && pending.isEmpty { advance(lsn, report) }
        }
    }

    private func advance(_ lsn: LSN, _ report: @Sendable (LSN) -> Void) {
        guard lsn > durable else { return }
        durable = lsn
        report(lsn)
    }

    // MARK: - Target transactions

    private func begin() async throws {
        guard !open else { return }
        var start = [Statement("BEGIN")]
        if markWrites {
            // Marks the transaction as the bridge's own, so that reading the same database never re-applies it.
            start.append(Statement("SELECT pg_logical_emit_message(true, $1, $2)", [TransactionReader.markerPrefix, slot]))
        }
        try await target.pipeline(start)
        open = true
        batchStart = .now
        batchRows = 0
    }

    /// Applies what is pending, records the checkpoint and commits; then the position is durable.
    private func commitBatch(_ explicitEnd: TransactionEnd? = nil, report: @Sendable (LSN) -> Void) async throws {
        try await applySlice()
        guard let end = explicitEnd ?? lastEnd else { return }
        if open {
            try await target.pipeline([
                StateSchema.recordCheckpoint(slot: slot, lsn: end.endLSN, commitTime: end.commitTime),
                Statement("COMMIT"),
            ])
            open = false
            logger.debug("committed batch", metadata: ["lsn": "\(end.endLSN)", "rows": "\(batchRows)"])
        }
        lastEnd = nil
        advance(end.endLSN, report)
    }

    private func rollback() async {
        guard open else { return }
        open = false
        pending.removeAll()
        _ = try? await target.simpleQuery("ROLLBACK")
    }

    // MARK: - Batched apply

    /// Folds the pending changes per row and applies them set-based inside the open transaction.
    private func applySlice() async throws {
        guard !pending.isEmpty else { return }
        try await begin()
        var folders: [Int: RowFolder] = [:]
        var order: [Int] = []
        for (source, change) in pending {
            if folders[source] == nil {
                folders[source] = RowFolder(rowKey: plan.sources[source].rowKey, capacity: pending.count)
                order.append(source)
            }
            folders[source]?.fold(change)
        }
        batchRows += pending.count
        pending.removeAll(keepingCapacity: true)
        for source in order {
            if let rows = folders[source]?.rows { try await apply(rows, source: source) }
        }
    }

    /// Applies one source table's folded rows to all of its targets.
    private func apply(_ folded: [FoldedRow], source: Int) async throws {
        let sourcePlan = plan.sources[source]
        var rows = folded
        // A key or `when` that reads a value the source did not send can't be decided: read the row now.
        let decisive = sourcePlan.targets.reduce(into: Set<Int>()) { $0.formUnion($1.keyDependencies.union($1.whenDependencies)) }
        let undecidable = rows.indices.filter { rows[$0].operation == .upsert && !decisive.isDisjoint(with: rows[$0].unchanged) }
        if !undecidable.isEmpty {
            rows = try await refetch(rows, undecidable, sourcePlan)
        }
        let unmatched = try await stageAndRun(rows, source: source)
        // Rows with unchanged TOAST values that a target did not hold yet: write them whole, as the source has them now.
        if !unmatched.isEmpty {
            let refetched = try await refetch(rows, unmatched.sorted(), sourcePlan)
            let complete = unmatched.sorted().map { refetched[$0] }.filter { $0.operation == .delete || $0.unchanged.isEmpty }
            if !complete.isEmpty { _ = try await stageAndRun(complete, source: source) }
        }
    }

    /// Stages rows with COPY and runs, in one pipeline, the statements of every target that can
    /// match something in them; returns the rows with unchanged values that some target did not have.
    private func stageAndRun(_ folded: [FoldedRow], source: Int) async throws -> Set<Int> {
        let sourcePlan = plan.sources[source]
        var rows = folded
        if orderedThrough != nil {
            // Replaying in order: upsert everything, so a target row that should not exist cannot fail the insert again.
            for index in rows.indices { rows[index].fresh = false }
        }
        // A row inserted and deleted within the batch never reached the target: nothing to do.
        let staged = rows.indices.filter { !(rows[$0].fresh && rows[$0].operation == .delete) }.map { ($0, rows[$0]) }
        guard !staged.isEmpty else { return [] }
        try await target.copyIn("COPY \(sourcePlan.staging) FROM STDIN", data: StagingCopy.encode(staged))
        let upserts = staged.map(\.1).filter { $0.operation == .upsert }
        let hasDelete = upserts.count < staged.count
        let hasFresh = upserts.contains { $0.fresh }
        let hasStale = upserts.contains { !$0.fresh && $0.unchanged.isEmpty }
        let hasPartial = upserts.contains { !$0.fresh && !$0.unchanged.isEmpty }
        var batch: [Statement] = []
        var partialResults: [Int] = []
        for (index, statement) in statements[source].enumerated() {
            let mapped = sourcePlan.targets[index]
            if let delete = statement.delete,
               (hasDelete && mapped.mapping.onDelete == .delete) || (mapped.mapping.when != nil && (hasStale || hasPartial)) {
                batch.append(Statement(delete))
            }
            if hasStale || (mapped.inPlace && hasFresh) { batch.append(Statement(statement.write)) }
            if hasFresh && !mapped.inPlace { batch.append(Statement(statement.insertFresh)) }
            if hasPartial {
                if !mapped.inPlace { partialResults.append(batch.count) }
                batch.append(Statement(statement.writePartial))
            }
        }
        batch.append(Statement("TRUNCATE \(sourcePlan.staging)"))
        let results = try await target.pipeline(batch)
        var unmatched = Set<Int>()
        for index in partialResults {
            for row in results[index].rows { if let seq = row.first.flatMap({ $0.flatMap { Int($0) } }) { unmatched.insert(seq) } }
        }
        return unmatched
    }

    /// Replaces the rows at `indices` with the source's current version; a row gone from the source
    /// becomes a delete (the source's own delete follows later in the stream).
    private func refetch(_ rows: [FoldedRow], _ indices: [Int], _ sourcePlan: SourcePlan) async throws -> [FoldedRow] {
        let folder = RowFolder(rowKey: sourcePlan.rowKey)
        let current = try await sourceRows.fetch(sourcePlan, keys: indices.map { folder.key(rows[$0].values) })
        var result = rows
        for index in indices {
            if let values = current[folder.key(rows[index].values)] {
                result[index].values = values
            } else {
                logger.debug("row gone from the source; its delete follows", metadata: ["table": "\(sourcePlan.info.table)"])
                result[index].operation = .delete
            }
        }
        return result
    }

    private func truncate(_ sources: [Int], at lsn: LSN) async throws {
        try await begin()
        for source in sources {
            for mapped in plan.sources[source].targets where !mapped.inPlace {
                switch mapped.mapping.onTruncate {
                case .truncate: try await target.query("TRUNCATE \(mapped.mapping.into.quoted)")
                case .ignore: continue
                case .stop: throw BridgeError.truncateStops(table: plan.sources[source].info.table, target: mapped.mapping.into, at: lsn)
                }
            }
        }
    }

    /// Writes the rows with these keys as the source holds them now, in a transaction of their own that also runs `extra`.
    func resync(source: Int, keys: [[TupleValue]], extra: () -> [Statement]) async throws {
        let sourcePlan = plan.sources[source]
        let placeholders = keys.map { key in
            var values = [TupleValue](repeating: .null, count: sourcePlan.stagedColumns.count)
            for (position, value) in zip(sourcePlan.rowKey, key) { values[position] = value }
            return FoldedRow(operation: .upsert, values: values, lsn: .zero)
        }
        try await begin()
        do {
            let rows = try await refetch(placeholders, Array(placeholders.indices), sourcePlan)
            _ = try await stageAndRun(rows, source: source)
            try await target.pipeline(extra() + [Statement("COMMIT")])
            open = false
        } catch {
            await rollback()
            throw error
        }
    }

    // MARK: - Ordered replay

    /// Applies one change on its own; a rejection stops the bridge (`on_error: stop`) after committing
    /// the transactions before it, or lands in the dead-letter table (`on_error: dead_letter`).
    private func applyOrdered(_ source: Int, _ change: RowChange) async throws {
        try await begin()
        var folder = RowFolder(rowKey: plan.sources[source].rowKey)
        folder.fold(change)
        if onError == .deadLetter {
            try await target.query("SAVEPOINT walbridge_change")
        }
        do {
            try await apply(folder.rows, source: source)
        } catch let error as PGError where error.kind == .server {
            let rejected = describe(change, source: source, error: error)
            guard onError == .deadLetter else {
                await rollback()
                throw BridgeError.rejected(rejected)
            }
            logger.warning("change rejected, kept in walbridge.dead_letters", metadata: ["change": "\(rejected)"])
            try await target.query("ROLLBACK TO SAVEPOINT walbridge_change")
            try await DeadLetters.record(rejected, change: change, plan: plan.sources[source], slot: slot, on: target)
        }
    }

    /// The rejected change as people read it: tables, key, LSN and the server's reason.
    private func describe(_ change: RowChange, source: Int, error: PGError) -> RejectedChange {
        let sourcePlan = plan.sources[source]
        let values = change.new ?? change.old ?? []
        let keyNames = sourcePlan.rowKey.map { sourcePlan.stagedColumns[$0].name }
        let keyValues = sourcePlan.rowKey.map { $0 < values.count ? values[$0].displayText : "?" }
        let targetTable = error.table.map { table in
            sourcePlan.targets.first { $0.mapping.into.name == table }?.mapping.into
        } ?? sourcePlan.targets.first?.mapping.into
        return RejectedChange(
            sourceTable: sourcePlan.info.table, targetTable: targetTable,
            operation: "\(change.kind)", key: "(\(keyNames.joined(separator: ", ")))=(\(keyValues.joined(separator: ", ")))",
            lsn: change.lsn, sqlState: error.sqlState, message: error.description)
    }
}

extension TupleValue {
    /// The value as text for messages: NULL, the text, or a marker.
    var displayText: String {
        switch self {
        case .null: "NULL"
        case .unchangedToast: "<unchanged toast>"
        case .text(let bytes): String(decoding: bytes, as: UTF8.self)
        case .binary(let bytes): "\\x" + bytes.hexString
        }
    }
}
