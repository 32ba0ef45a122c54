import Logging
import PGClient
import PGOutput
import Synchronization

/// The reader ended the stream with an error; the applier commits what is complete, then rethrows it.
struct ReaderFailure: Error {
    var underlying: Error
}

/// A batch reached past a pause position asked while it was read: it was rolled back, to be applied again up to the pause.
struct StopRequested: Error {}

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
    private let slot: String
    private let markWrites: Bool
    private let onError: OnError
    private let limits: ApplyLimits
    private let logger: Logger
    private let writer: SliceWriter
    /// The slice or COMMIT being written while the next batch is folded.
    private var inflight: Task<Void, Error>?
    /// Source transactions (xids) whose changes are pending: what reads their rows back must see them committed.
    private var batchXids: [UInt32] = []
    /// The source transaction being applied, sent whole: its commit is written, but the source may show it a moment later.
    private var openXid: UInt32?
    /// Called once a backfill chunk's rows are taken (so the backfill reads ahead by a bounded number of chunks).
    var onBackfillChunk: @Sendable () async -> Void = {}
    /// Sessions that write backfill chunks side by side; nil: chunks go through the apply session like changes.
    var chunkWriters: ChunkWriters?
    /// Set to stop at the next source transaction boundary instead of applying everything queued.
    let halt = HaltFlag()
    /// Where applied changes, commits and latencies are counted (with `metrics:`).
    var metrics: BridgeMetrics?
    /// Changes in the open batch per source table and kind, for the metrics.
    private var counts: [Int: [RowChange.Kind: Int]] = [:]

    /// Replay in order (one change at a time, one target transaction per source transaction) until a commit past this.
    private var orderedThrough: LSN?
    private var open = false
    private var pending: [(source: Int, change: RowChange)] = []
    private var batchStart = ContinuousClock.now
    private var batchRows = 0
    private var lastEnd: TransactionEnd?
    /// Statements the open batch commits with (backfill progress).
    private var batchExtras: [Statement] = []
    private var midTransaction = false
    /// Inside a streamed transaction: the source has not committed it, so no row can be read back from the source.
    private var streaming = false
    private var highest = LSN.zero
    /// The position up to which the target durably holds everything: safe to report to the source.
    private(set) var durable: LSN
    /// The checkpoint last written to `walbridge.progress`.
    private var recorded: LSN
    /// Receives each new durable position.
    private var report: @Sendable (LSN) -> Void = { _ in }
    /// The end of the batch whose COMMIT is in flight (`inflight`): durable once that task succeeds.
    private var committing: LSN?

    /// An applier writing to `target`, starting from the checkpoint `durable`.
    init(
        plan: MappingPlan, target: PGConnection, sourceRows: SourceRows, slot: String, markWrites: Bool,
        onError: OnError, limits: ApplyLimits, logger: Logger, durable: LSN, orderedThrough: LSN?
    ) {
        self.plan = plan
        self.target = target
        self.slot = slot
        self.markWrites = markWrites
        self.onError = onError
        self.limits = limits
        self.logger = logger
        self.durable = durable
        recorded = durable
        self.orderedThrough = orderedThrough
        writer = SliceWriter(plan: plan, target: target, sourceRows: sourceRows, logger: logger)
    }

    /// Sets up the target session (see `SliceWriter.prepare`).
    func prepare() async throws {
        try await writer.prepare(copies: try await DirectCopy.plan(plan, on: target))
    }

    /// Applies events until the queue ends; publishes the durable position after every commit.
    func run(_ queue: AsyncBoundedQueue<[ApplyEvent]>, report: @escaping @Sendable (LSN) -> Void) async throws {
        self.report = report
        do {
            try await applyAll(queue)
            await writer.close()
            await chunkWriters?.close()
        } catch {
            await writer.close()
            await chunkWriters?.close()
            throw error
        }
    }

    private func applyAll(_ queue: AsyncBoundedQueue<[ApplyEvent]>) async throws {
        do {
            events: while let events = try await nextEvents(queue) {
                for event in events {
                    // Halted (pause, shutdown): stop at this transaction boundary; what is still queued was not
                    // acknowledged and comes again from the checkpoint.
                    if halt.isSet && !midTransaction { break events }
                    try await handle(event)
                }
                if await queue.count == 0, !midTransaction {
                    // Nothing more to fold meanwhile: commit now (or record where transactions with nothing to apply
                    // ended), and report the position while the stream is quiet.
                    if open || !pending.isEmpty || lastEnd != nil { try await commitBatch() }
                    try await settle()
                }
            }
            if !midTransaction && (open || !pending.isEmpty) { try await commitBatch() }
            try await settle()
            await rollback()
        } catch let failure as ReaderFailure {
            // The stream stopped (schema drift, say): keep the complete transactions already applied, so a
            // restart after the fix starts right at the transaction that stopped it.
            if !midTransaction && (open || !pending.isEmpty) { try? await commitBatch() }
            await rollback()
            throw failure.underlying
        } catch let error as PGError where error.sqlState == Control.stopRequested {
            // A pause at an LSN inside this batch was asked after the stream had read past it: apply up to it instead.
            await rollback()
            throw StopRequested()
        } catch let error as PGError where error.isRejection && orderedThrough == nil {
            await rollback()
            throw OrderedReplay(through: highest, cause: error)
        } catch {
            await rollback()
            throw error
        }
    }

    /// The next batch of events; an error the reader ended the queue with comes back as a `ReaderFailure`.
    private func nextEvents(_ queue: AsyncBoundedQueue<[ApplyEvent]>) async throws -> [ApplyEvent]? {
        do {
            return try await queue.next()
        } catch {
            throw ReaderFailure(underlying: error)
        }
    }

    private func handle(_ event: ApplyEvent) async throws {
        switch event {
        case .begin(let xid):
            openXid = xid
        case .change(let source, let change):
            midTransaction = true
            if metrics != nil { counts[source, default: [:]][change.kind, default: 0] += 1 }
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
            // xids below 3 are PostgreSQL's special ones (and 0 marks a backfill chunk), visible to everyone.
            if midTransaction && end.xid >= 3 { batchXids.append(end.xid) }
            midTransaction = false
            openXid = nil
            if end.endLSN > highest { highest = end.endLSN }
            streaming = false
            if let through = orderedThrough {
                try await commitBatch(end)
                // One change at a time, nothing clears these: the last commit is the one a read-back may still not see.
                batchXids = Array(batchXids.suffix(1))
                if end.endLSN > through {
                    orderedThrough = nil
                    logger.info("ordered replay done, back to batched apply", metadata: ["lsn": "\(end.endLSN)"])
                }
                return
            }
            lastEnd = end
            if !open && pending.isEmpty {
                try await settle()
                // Nothing to apply: the position moves once the target records it (see recordQuiet), when the stream is
                // quiet or with the next batch's checkpoint. Where the target is the source, nothing is recorded.
                if markWrites { advance(end.endLSN) }
            } else if batchRows + pending.count >= limits.batchRows || ContinuousClock.now - batchStart >= limits.batchTime {
                try await commitBatch()
            }
        case .streamStart:
            // A streamed transaction applies in a target transaction of its own, so that stopping inside it (a pause,
            // a lost connection) keeps the complete transactions before it.
            if open || !pending.isEmpty { try await commitBatch() }
            streaming = true
        case .idle(let lsn):
            guard !open && pending.isEmpty else { break }
            try await recordQuiet(lsn)
        case .backfillWindow:
            // The bridge resolves windows into chunks before they reach the applier.
            break
        case .backfill(let chunk):
            if let chunkWriters, orderedThrough == nil {
                // Everything before the high watermark is committed first; the chunk's rows follow on their own sessions.
                try await commitBatch()
                try await settle()
                if chunk.lsn > highest { highest = chunk.lsn }
                try await chunkWriters.write(chunk)
            } else {
                for values in chunk.rows {
                    try await handle(.change(source: chunk.source, RowChange(kind: .update, new: values, old: nil, oldIsFull: false, lsn: chunk.lsn)))
                }
            }
            metrics?.backfilled(chunk.rows.count, table: plan.sources[chunk.source].info.table.description)
            await onBackfillChunk()
            try await begin()
            batchExtras.append(chunk.progress)
            try await handle(.commit(TransactionEnd(xid: 0, commitLSN: chunk.lsn, endLSN: chunk.lsn, commitTime: nil)))
        }
    }

    /// Moves the position reported to the source to `lsn`, a point with nothing to apply, once the target has recorded
    /// it in walbridge.progress (which keeps wait_for_lsn current too): the source must not confirm more than the target
    /// holds. Not where the target is the source: the write would itself move the source's WAL, and the next keepalive.
    private func recordQuiet(_ lsn: LSN) async throws {
        try await settle()
        if !markWrites && lsn > recorded {
            try await target.pipeline([
                Statement("BEGIN"), Statement("SET LOCAL synchronous_commit = off"),
                ProgressState.recordIdle(slot: slot, lsn: lsn), Statement("COMMIT"),
            ])
            recorded = lsn
        }
        advance(lsn)
    }

    private func advance(_ lsn: LSN) {
        guard lsn > durable else { return }
        durable = lsn
        report(lsn)
    }

    // MARK: - Target transactions

    private func begin() async throws {
        guard !open else { return }
        try await settle()
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

    /// Waits for the slice or commit in flight, surfacing its error; a commit that succeeded makes its batch durable.
    private func settle() async throws {
        guard let task = inflight else { return }
        inflight = nil
        let end = committing
        committing = nil
        try await task.value
        if let end { advance(end) }
    }

    /// What rows read back now must see committed on the source: the pending transactions, and the one being applied
    /// once it has changes here (a synchronous standby, for one, holds a written commit back from other sessions until it
    /// confirms, while the stream already delivered it).
    private var xidsToSee: [UInt32] {
        guard midTransaction, let openXid, openXid >= 3 else { return batchXids }
        return batchXids + [openXid]
    }

    /// Applies what is pending, records the checkpoint and commits. In batched apply the COMMIT stays in flight while
    /// the next batch is folded; its position becomes durable at the next `settle`, which every other use of the
    /// session waits for first.
    private func commitBatch(_ explicitEnd: TransactionEnd? = nil) async throws {
        try await applySlice()
        guard let end = explicitEnd ?? lastEnd else {
            try await settle()
            return
        }
        lastEnd = nil
        guard open else {
            try await recordQuiet(end.endLSN)
            return
        }
        let statements = [
            Control.checkStop(slot: slot, commitLSN: end.commitLSN),
            ProgressState.recordCheckpoint(slot: slot, lsn: end.endLSN, commitLSN: end.commitLSN, commitTime: end.commitTime),
        ] + batchExtras + [Statement("COMMIT")]
        open = false
        recorded = max(recorded, end.endLSN)
        batchExtras.removeAll()
        if let metrics { count(into: metrics) }
        logger.debug("committing batch", metadata: ["lsn": "\(end.endLSN)", "rows": "\(batchRows)"])
        let slice = inflight
        let target = target
        inflight = Task {
            try await slice?.value
            _ = try await target.pipeline(statements)
        }
        committing = end.endLSN
        if orderedThrough != nil { try await settle() }
    }

    /// Adds the committed batch to the metrics.
    private func count(into metrics: BridgeMetrics) {
        for (source, kinds) in counts {
            for (kind, count) in kinds { metrics.applied(count, table: plan.sources[source].info.table.description, operation: "\(kind)") }
        }
        counts.removeAll()
        metrics.committed(rows: batchRows, duration: ContinuousClock.now - batchStart)
    }

    private func rollback() async {
        _ = try? await settle()
        streaming = false
        guard open else { return }
        open = false
        pending.removeAll()
        batchExtras.removeAll()
        counts.removeAll()
        _ = try? await target.simpleQuery("ROLLBACK")
    }

    // MARK: - Batched apply

    /// Folds the pending changes per row and applies them set-based inside the open transaction.
    private func applySlice() async throws {
        guard !pending.isEmpty else { return }
        try await begin()
        let xids = xidsToSee
        batchXids.removeAll()
        // In place, an update only finds the rows its source transactions made visible.
        if markWrites && plan.hasInPlaceTargets { try await ChunkSnapshot.waitUntilVisible(xids, on: target) }
        var folders: [Int: RowFolder] = [:]
        var order: [Int] = []
        for (source, change) in pending {
            if folders[source] == nil {
                folders[source] = RowFolder(plan.sources[source], capacity: pending.count)
                order.append(source)
            }
            folders[source]?.fold(change)
        }
        batchRows += pending.count
        pending.removeAll(keepingCapacity: true)
        let slices = order.compactMap { source in folders[source].map { (source, $0.rows) } }
        let streamed = streaming
        try await settle()
        let writer = writer
        inflight = Task {
            for (source, rows) in slices { try await writer.apply(rows, source: source, upsertOnly: false, visible: xids, streamed: streamed) }
        }
    }

    private func truncate(_ sources: [Int], at lsn: LSN) async throws {
        try await settle()
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
            let rows = try await writer.refetch(placeholders, Array(placeholders.indices), sourcePlan, visible: []).rows
            _ = try await writer.stageAndRun(rows, source: source, upsertOnly: true)
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
        var folder = RowFolder(plan.sources[source])
        folder.fold(change)
        if onError == .deadLetter {
            try await target.query("SAVEPOINT walbridge_change")
        }
        do {
            let visible = xidsToSee
            if markWrites && plan.hasInPlaceTargets { try await ChunkSnapshot.waitUntilVisible(visible, on: target) }
            try await writer.apply(folder.rows, source: source, upsertOnly: true, visible: visible)
        } catch let error as PGError where error.isRejection {
            let rejected = describe(change, source: source, error: error)
            guard onError == .deadLetter else {
                await rollback()
                throw BridgeError.rejected(rejected)
            }
            logger.warning("change rejected, kept in walbridge.dead_letters", metadata: ["change": "\(rejected)"])
            try await target.query("ROLLBACK TO SAVEPOINT walbridge_change")
            try await DeadLetters.record(rejected, change: change, plan: plan.sources[source], slot: slot, on: target)
            metrics?.deadLettered()
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
