import Logging
import PGClient
import PGOutput
import Synchronization

/// Performs what `ApplyMachine` decides on the target session: the thin, I/O half of the apply path. A slice or COMMIT
/// stays in flight while the next events are folded; the position goes to the source once the target holds it.
final class Applier {
    private var machine: ApplyMachine
    private let plan: MappingPlan
    private let target: PGConnection
    private let slot: String
    /// Each target transaction starts with the marker: the target is the source, or the source of the reverse direction.
    private let marksWrites: Bool
    private let onError: OnError
    private let logger: Logger
    private let writer: SliceWriter
    /// Sessions that write backfill chunks side by side; nil: chunks go through the apply session like changes.
    private let chunkWriters: ChunkWriters?
    /// Where applied changes, commits and latencies are counted (with `metrics:`).
    private let metrics: BridgeMetrics?
    /// Called once a backfill chunk's rows are taken (so the backfill reads ahead by a bounded number of chunks).
    private let onBackfillChunk: @Sendable () async -> Void
    /// Set to stop at the next source transaction boundary instead of applying everything queued.
    let halt = HaltFlag()
    /// The slice or COMMIT being written while the next batch is folded, and for a COMMIT the position it makes durable.
    private var inflight: (task: Task<Void, Error>, commits: LSN?)?
    /// The position last reported.
    private var reported: LSN
    /// Receives each new durable position.
    private var report: @Sendable (LSN) -> Void = { _ in }

    /// An applier writing to `target`, starting from the checkpoint `durable`.
    init(
        plan: MappingPlan, target: PGConnection, sourceRows: SourceRows, slot: String, markWrites: Bool, marksWrites: Bool, onError: OnError,
        limits: ApplyLimits, logger: Logger, durable: LSN, orderedThrough: LSN?, chunkWriters: ChunkWriters? = nil,
        metrics: BridgeMetrics? = nil, onBackfillChunk: @escaping @Sendable () async -> Void = {}
    ) {
        machine = ApplyMachine(
            plan: plan, limits: limits, markWrites: markWrites, chunkSessions: chunkWriters != nil, counting: metrics != nil,
            durable: durable, orderedThrough: orderedThrough)
        self.plan = plan
        self.target = target
        self.slot = slot
        self.marksWrites = marksWrites
        self.onError = onError
        self.logger = logger
        self.chunkWriters = chunkWriters
        self.metrics = metrics
        self.onBackfillChunk = onBackfillChunk
        reported = durable
        writer = SliceWriter(plan: plan, target: target, sourceRows: sourceRows, logger: logger)
    }

    /// Sets up the target session (see `SliceWriter.prepare`).
    func prepare() async throws {
        try await writer.prepare(copies: try await DirectCopy.plan(plan, on: target))
    }

    /// Applies events until the queue ends or the halt stops it; publishes the durable position after every commit.
    /// A queue ended with an error (the stream or the backfill failed) ends it too, keeping the complete transactions,
    /// so that a restart after the fix starts right at the transaction that stopped it.
    func run(_ queue: AsyncBoundedQueue<[ApplyEvent]>, report: @escaping @Sendable (LSN) -> Void) async throws -> ApplyOutcome {
        self.report = report
        do {
            let outcome = try await applyAll(queue)
            await close()
            return outcome
        } catch {
            await close()
            throw error
        }
    }

    private func close() async {
        await writer.close()
        await chunkWriters?.close()
    }

    private func applyAll(_ queue: AsyncBoundedQueue<[ApplyEvent]>) async throws -> ApplyOutcome {
        do {
            events: while true {
                let next: [ApplyEvent]?
                do {
                    next = try await queue.next()
                } catch {
                    // The producer failed (and reports it): keep what is complete.
                    do { try await perform(machine.finish()) } catch { try await perform(machine.abandon()) }
                    return .finished
                }
                guard let events = next else { break }
                for event in events {
                    // Halted (pause, shutdown): stop at this transaction boundary; what is still queued was not
                    // acknowledged and comes again from the checkpoint.
                    if halt.isSet && !machine.midTransaction { break events }
                    try await perform(machine.handle(event))
                }
                if await queue.count == 0, !machine.midTransaction { try await perform(machine.quiet()) }
            }
            try await perform(machine.finish())
            return .finished
        } catch let error as PGError where error.sqlState == Control.stopRequested {
            try await perform(machine.abandon())
            return .stopRequested
        } catch let error as PGError where error.isRejection && machine.mode == .batched {
            try await perform(machine.abandon())
            return .replayInOrder(through: machine.highest, cause: error)
        } catch let fallback as StreamingFallback {
            try await perform(machine.abandon())
            return .disableStreaming(fallback)
        } catch {
            try await perform(machine.abandon())
            throw error
        }
    }

    /// Performs the machine's actions in order.
    private func perform(_ actions: [ApplyAction]) async throws {
        for action in actions { try await perform(action) }
    }

    private func perform(_ action: ApplyAction) async throws {
        switch action {
        case .begin:
            // Where the target is the source, the mark keeps the bridge from applying its own transaction again; where it
            // is the reverse direction's source, it keeps that direction from carrying the write back.
            _ = try await target.pipeline([Statement("BEGIN")] + (marksWrites ? [TransactionReader.marker(slot: slot)] : []))
        case .waitUntilVisible(let xids):
            try await SourceSnapshot.waitUntilVisible(xids, on: target)
        case .write(let slice):
            let writer = writer
            inflight = (Task {
                for part in slice.rows {
                    try await writer.apply(part.rows, source: part.source, upsertOnly: false, visible: slice.visible, streamed: slice.streamed)
                }
            }, nil)
        case .commit(let commit):
            let statements = [
                Control.checkStop(slot: slot, commitLSN: commit.checkpoint.commitLSN),
                ProgressState.recordCheckpoint(slot: slot, commit.checkpoint),
            ] + commit.chunks.map { BackfillState.recordChunk(slot: slot, $0) } + [Statement("COMMIT")]
            if let metrics { count(commit, into: metrics) }
            logger.debug("committing batch", metadata: ["lsn": "\(commit.checkpoint.endLSN)", "rows": "\(commit.rows)"])
            let slice = inflight?.task
            let target = target
            inflight = (Task {
                try await slice?.value
                _ = try await target.pipeline(statements)
            }, commit.checkpoint.endLSN)
        case .settle:
            guard let (task, _) = inflight else { return }
            inflight = nil
            try await task.value
        case .abandon(let rollback):
            if let (task, commits) = inflight {
                inflight = nil
                if (try? await task.value) != nil, let commits { advance(commits) }
            }
            if rollback { _ = try? await target.simpleQuery("ROLLBACK") }
        case .recordQuiet(let lsn):
            _ = try await target.pipeline([
                Statement("BEGIN"), Statement("SET LOCAL synchronous_commit = off"), ProgressState.recordIdle(slot: slot, lsn: lsn), Statement("COMMIT"),
            ])
        case .advance(let lsn):
            advance(lsn)
        case .truncate(let statements):
            for statement in statements { try await target.query(statement) }
        case .writeChunk(let chunk):
            if let rejection = try await chunkWriters?.write(chunk) {
                logger.warning("the target refused a row of a backfill chunk; writing the chunk again to find the rows at fault", metadata: ["error": "\(rejection.message)"])
                try await applyRows(of: chunk)
            }
        case .tookChunk(let chunk):
            metrics?.backfilled(chunk.rows.count, table: plan.sources[chunk.source].info.table.description)
            await onBackfillChunk()
        case .applyOne(let source, let change, let visible):
            try await applyOne(source, change, visible: visible)
        case .orderedReplayDone(let lsn):
            logger.info("ordered replay done, back to batched apply", metadata: ["lsn": "\(lsn)"])
        case .fail(let error):
            throw error
        }
    }

    private func advance(_ lsn: LSN) {
        guard lsn > reported else { return }
        reported = lsn
        report(lsn)
    }

    /// Adds a committed batch to the metrics.
    private func count(_ commit: ApplyAction.Commit, into metrics: BridgeMetrics) {
        for (source, kinds) in commit.counts {
            for (kind, count) in kinds { metrics.applied(count, table: plan.sources[source].info.table.description, operation: "\(kind)") }
        }
        metrics.committed(rows: commit.rows, duration: ContinuousClock.now - commit.started)
    }

    /// Writes a chunk's rows in a transaction of its own on the apply session, halving the rows the target refuses until
    /// each refused row stands alone and is judged as `applyOne` judges a change (stopping the bridge, or dead-lettered);
    /// the chunk's progress commits after it.
    private func applyRows(of chunk: BackfillChunk) async throws {
        // Deferred constraints are checked by each write, so that a refused row shows where it is.
        _ = try await target.pipeline(
            [Statement("BEGIN"), Statement("SET CONSTRAINTS ALL IMMEDIATE")] + (marksWrites ? [TransactionReader.marker(slot: slot)] : []))
        do {
            try await applyRows(chunk.stagedRows(plan.sources[chunk.source].stagedColumns.count)[...], of: chunk)
            try await target.query("COMMIT")
        } catch {
            _ = try? await target.simpleQuery("ROLLBACK")
            throw error
        }
    }

    private func applyRows(_ rows: ArraySlice<[TupleValue]>, of chunk: BackfillChunk) async throws {
        guard rows.count > 1 else {
            for values in rows {
                try await applyOne(chunk.source, RowChange(kind: .update, new: values, old: nil, oldIsFull: false, lsn: chunk.lsn), visible: [])
            }
            return
        }
        try await target.query("SAVEPOINT walbridge_rows")
        do {
            try await writer.apply(rows.map { FoldedRow(operation: .upsert, values: $0, lsn: chunk.lsn) }, source: chunk.source, upsertOnly: true, visible: [])
            try await target.query("RELEASE SAVEPOINT walbridge_rows")
        } catch let error as PGError where error.isRejection {
            try await target.simpleQuery("ROLLBACK TO SAVEPOINT walbridge_rows; RELEASE SAVEPOINT walbridge_rows")
            let half = rows.startIndex + rows.count / 2
            try await applyRows(rows[..<half], of: chunk)
            try await applyRows(rows[half...], of: chunk)
        }
    }

    /// Applies one change on its own; a rejection stops the bridge (`on_error: stop`) after committing
    /// the transactions before it, or lands in the dead-letter table (`on_error: dead_letter`).
    private func applyOne(_ source: Int, _ change: RowChange, visible: [UInt32]) async throws {
        var folder = RowFolder(plan.sources[source])
        folder.fold(change)
        if onError == .deadLetter {
            try await target.query("SAVEPOINT walbridge_change")
        }
        do {
            try await writer.apply(folder.rows, source: source, upsertOnly: true, visible: visible)
        } catch let error as PGError where error.isRejection {
            let rejected = describe(change, source: source, error: error)
            guard onError == .deadLetter else { throw BridgeError.rejected(rejected) }
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
