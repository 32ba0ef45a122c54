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
    /// Each target transaction starts with the marker: the target is the source, or the source of the reverse
    /// direction.
    private let marksWrites: Bool
    private let onError: OnError
    /// Whether every table is copied when first seen (`backfill: auto`).
    private let backfill: BackfillMode
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
    /// The slice or COMMIT being written while the next batch is folded, and for a COMMIT the position it makes
    /// durable.
    private var inflight: (task: Task<Void, Error>, commits: LSN?)?
    /// The position last reported.
    private var reported: LSN
    /// Receives each new durable position.
    private var report: @Sendable (LSN) -> Void = { _ in }
    /// In ordered replay, the changes of the source transaction a foreign key refused, tried again before its COMMIT.
    private var postponed = PostponedChanges()
    /// Opens a target session beside the apply session, for recording positions while a streamed transaction is open.
    private let openAside: (@Sendable () async throws -> PGConnection)?
    private var aside: PGConnection?

    /// An applier writing to `target`, starting from the checkpoint `durable`.
    init(
        plan: MappingPlan, target: PGConnection, sourceRows: SourceRows, slot: String, markWrites: Bool,
        marksWrites: Bool, onError: OnError, backfill: BackfillMode = .auto, limits: ApplyLimits, logger: Logger,
        durable: LSN, orderedThrough: LSN?, chunkWriters: ChunkWriters? = nil, metrics: BridgeMetrics? = nil,
        openAside: (@Sendable () async throws -> PGConnection)? = nil,
        onBackfillChunk: @escaping @Sendable () async -> Void = {}
    ) {
        machine = ApplyMachine(
            plan: plan, limits: limits, markWrites: markWrites, chunkSessions: chunkWriters != nil,
            counting: metrics != nil, durable: durable, orderedThrough: orderedThrough)
        self.plan = plan
        self.target = target
        self.slot = slot
        self.marksWrites = marksWrites
        self.onError = onError
        self.backfill = backfill
        self.logger = logger
        self.chunkWriters = chunkWriters
        self.metrics = metrics
        self.onBackfillChunk = onBackfillChunk
        self.openAside = openAside
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
    func run(
        _ queue: AsyncBoundedQueue<[ApplyEvent]>, report: @escaping @Sendable (LSN) -> Void
    ) async throws -> ApplyOutcome {
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
        await aside?.close()
        aside = nil
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
            // Where the target is the source, the mark keeps the bridge from applying its own transaction again; where
            // it is the reverse direction's source, it keeps that direction from carrying the write back. DEFERRABLE
            // foreign keys among the targets are checked at the COMMIT (`ForeignKeyOrder.deferred`); in ordered replay
            // those the order follows are checked at once, so a refusal shows at its change and can be postponed.
            let deferral =
                machine.mode == .batched
                ? plan.foreignKeys.deferral.map { [$0] } ?? [] : plan.foreignKeys.replayDeferral
            _ = try await target.pipeline(
                [Statement("BEGIN")] + deferral + (marksWrites ? [TransactionReader.marker(slot: slot)] : []))
        case .waitUntilVisible(let xids):
            try await SourceSnapshot.waitUntilVisible(xids, on: target)
        case .write(let slice):
            let writer = writer
            inflight = (Task {
                try await writer.apply(slice.rows, upsertOnly: false, visible: slice.visible, streamed: slice.streamed)
            }, nil)
        case .commit(let commit):
            try await retryPostponed()
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
            _ = postponed.takeAll()
            if let (task, commits) = inflight {
                inflight = nil
                if (try? await task.value) != nil, let commits { advance(commits) }
            }
            if rollback { _ = try? await target.simpleQuery("ROLLBACK") }
        case .recordQuiet(let lsn):
            _ = try await target.pipeline([
                Statement("BEGIN"), Statement("SET LOCAL synchronous_commit = off"),
                ProgressState.recordIdle(slot: slot, lsn: lsn), Statement("COMMIT"),
            ])
        case .recordAside(let lsn):
            guard let openAside else { return }
            if aside == nil { aside = try await openAside() }
            _ = try await aside?.pipeline([ProgressState.recordIdle(slot: slot, lsn: lsn)])
        case .advance(let lsn):
            advance(lsn)
        case .truncate(let statements):
            // Changes postponed before the TRUNCATE come before it.
            try await retryPostponed()
            for statement in statements { try await target.query(statement) }
        case .writeChunk(let chunk):
            if let rejection = try await chunkWriters?.write(chunk) {
                logger.warning(
                    "the target refused a row of a backfill chunk; writing the chunk again to find the rows at fault",
                    metadata: ["error": "\(rejection.message)"])
                try await applyRows(of: chunk)
            }
        case .tookChunk(let chunk):
            metrics?.backfilled(chunk.rows.count, table: plan.sources[chunk.source].info.table.description)
            await onBackfillChunk()
        case .applyOne(let source, let change, let visible, let chunkRow):
            // A backfill chunk's row is the backfill's own copy: nothing copies it later.
            try await applyOne(source, change, visible: visible, refused: chunkRow ? .judge : .postpone)
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
            for (kind, count) in kinds {
                metrics.applied(count, table: plan.sources[source].info.table.description, operation: "\(kind)")
            }
        }
        metrics.committed(rows: commit.rows, duration: ContinuousClock.now - commit.started)
    }

    /// Writes a chunk's rows in a transaction of its own on the apply session, halving the rows the target refuses
    /// until
    /// each refused row stands alone and is judged as `applyOne` judges a change (stopping the bridge, or dead-
    /// lettered);
    /// the chunk's progress commits after it.
    private func applyRows(of chunk: BackfillChunk) async throws {
        // Deferred constraints are checked by each write, so that a refused row shows where it is.
        _ = try await target.pipeline(
            [Statement("BEGIN"), Statement("SET CONSTRAINTS ALL IMMEDIATE")]
                + (marksWrites ? [TransactionReader.marker(slot: slot)] : []))
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
                try await applyOne(
                    chunk.source, RowChange(kind: .update, new: values, old: nil, oldIsFull: false, lsn: chunk.lsn),
                    visible: [])
            }
            return
        }
        try await target.query("SAVEPOINT walbridge_rows")
        do {
            try await writer.apply(
                rows.map { FoldedRow(operation: .upsert, values: $0, lsn: chunk.lsn) }, source: chunk.source,
                upsertOnly: true, visible: [])
            try await target.query("RELEASE SAVEPOINT walbridge_rows")
        } catch let error as PGError where error.isRejection {
            try await target.simpleQuery("ROLLBACK TO SAVEPOINT walbridge_rows; RELEASE SAVEPOINT walbridge_rows")
            let half = rows.startIndex + rows.count / 2
            try await applyRows(rows[..<half], of: chunk)
            try await applyRows(rows[half...], of: chunk)
        }
    }

    /// What becomes of a change a foreign key refuses.
    private enum ForeignKeyRefusal {
        /// Judged like any refusal: a backfill chunk's row, which nothing copies later.
        case judge
        /// It waits, with every later change of its row, for the end of its source transaction (ordered replay).
        case postpone
        /// Held for the backfill when that copies its row later (`copiedLater`), else judged: a streamed change tried
        /// again at the end of its source transaction.
        case hold
    }

    /// Applies one change on its own; a rejection stops the bridge (`on_error: stop`) after committing
    /// the transactions before it, or lands in the dead-letter table (`on_error: dead_letter`); a foreign key's refusal
    /// goes as `refused` says.
    private func applyOne(
        _ source: Int, _ change: RowChange, visible: [UInt32], refused: ForeignKeyRefusal = .judge
    ) async throws {
        let targets = Set(plan.sources[source].targets.map(\.mapping.into))
        if refused == .postpone && postponed.holds(targets) {
            postponed.append(.init(source: source, change: change, visible: visible), targets: targets)
            return
        }
        var folder = RowFolder(plan.sources[source])
        folder.fold(change)
        // Values read back beside those the stream sent (`ReadBack.filled`) may be refused together.
        let readsBack = folder.rows.contains(where: \.hasUnchanged)
        // Only where the transaction goes on after a refusal: dead letters, a foreign key among the targets, or a row
        // that can be written as the source holds it now.
        let savepoint = onError == .deadLetter || !plan.foreignKeys.keys.isEmpty || readsBack
        if savepoint { try await target.query("SAVEPOINT walbridge_change") }
        do {
            try await writer.apply(folder.rows, source: source, upsertOnly: true, visible: visible)
            if savepoint { try await target.query("RELEASE SAVEPOINT walbridge_change") }
        } catch let error as PGError where error.isRejection {
            guard savepoint else { throw BridgeError.rejected(describe(change, source: source, error: error)) }
            try await target.simpleQuery("ROLLBACK TO SAVEPOINT walbridge_change; RELEASE SAVEPOINT walbridge_change")
            if error.sqlState == Self.foreignKeyViolation && refused != .judge {
                if refused == .postpone {
                    postponed.append(.init(source: source, change: change, visible: visible), targets: targets)
                    return
                }
                // Removing a row that other targets reference would take their rows with it (ON DELETE CASCADE).
                let referenced = plan.foreignKeys.keys.contains { targets.contains($0.parent) }
                if !referenced, change.kind != .delete, try await copiedLater(source),
                   try await removeUntilCopied(folder.rows, source: source, visible: visible) {
                    logger.info("""
                        change held for the backfill: a foreign key refused it, and the backfill copies its row later, \
                        after the rows it references
                        """,
                        metadata: [
                            "table": "\(plan.sources[source].info.table)", "lsn": "\(change.lsn)",
                            "error": "\(error.message)",
                    ])
                    return
                }
                if !referenced, change.kind != .delete,
                    try await caughtUpWithSource(folder.rows, source: source, change: change, visible: visible) {
                    logger.info("""
                        change a foreign key refused written as the source holds its row now: the row it references \
                        was read back from the source ahead of the stream
                        """,
                        metadata: [
                            "table": "\(plan.sources[source].info.table)", "lsn": "\(change.lsn)",
                            "error": "\(error.message)",
                    ])
                    return
                }
            }
            // The values sent and those read back later can make a row the source never held (a cast or a CHECK over
            // both refuses it): written as before, with the rows read back whole, as the source holds them now.
            if readsBack, error.sqlState != Self.foreignKeyViolation,
               try await writtenWhole(folder.rows, source: source, visible: visible) {
                logger.warning("""
                    change refused with values read back from the source beside those sent; written with its row as \
                    the source holds it now, which its later changes follow
                    """,
                    metadata: [
                        "table": "\(plan.sources[source].info.table)", "lsn": "\(change.lsn)",
                        "error": "\(error.message)",
                    ])
                return
            }
            try await reject(change, source: source, error: error)
        }
    }

    /// Writes a change's rows again with every row read back taken whole (`ReadBack.whole`); false (nothing written)
    /// when the target refuses that too.
    private func writtenWhole(_ rows: [FoldedRow], source: Int, visible: [UInt32]) async throws -> Bool {
        try await accepted("walbridge_whole") {
            try await writer.apply(rows, source: source, upsertOnly: true, visible: visible, filling: .whole)
            return true
        }
    }

    /// What of a held change the targets take now: its removals (the old key of a moved row, which the backfill's copy
    /// would not remove), and the row itself removed until the backfill copies it as it then is (a target keeping
    /// deleted rows keeps it as it was); false (nothing written) when the target refuses that.
    private func removeUntilCopied(_ rows: [FoldedRow], source: Int, visible: [UInt32]) async throws -> Bool {
        let removals = rows.map { row in
            row.operation == .upsert ? FoldedRow(operation: .delete, values: row.values, lsn: row.lsn) : row
        }
        return try await accepted("walbridge_hold") {
            try await writer.apply(removals, source: source, upsertOnly: true, visible: visible)
            return true
        }
    }

    /// Writes a refused change's row as the source holds it now, after the removals the change would leave behind;
    /// false (nothing written) when the target refuses that too. A parent read back from the source ahead of the
    /// stream (its insert left out an unchanged TOAST value, and it was gone by then) is missing from the target until
    /// the change that removed it, which the source's own key makes come with or after this row's; the row's later
    /// changes follow.
    private func caughtUpWithSource(
        _ rows: [FoldedRow], source: Int, change: RowChange, visible: [UInt32]
    ) async throws -> Bool {
        guard let new = change.new else { return false }
        return try await accepted("walbridge_catch_up") {
            guard try await removeUntilCopied(rows, source: source, visible: visible) else { return false }
            try await writer.resync(source: source, keys: [RowFolder(plan.sources[source]).key(new)])
            return true
        }
    }

    /// Runs `body` inside savepoint `name`: kept when it returns true; rolled back, with false, when it returns false
    /// or the target refuses what it writes.
    private func accepted(_ name: String, _ body: () async throws -> Bool) async throws -> Bool {
        try await target.query("SAVEPOINT \(name)")
        do {
            if try await body() {
                try await target.query("RELEASE SAVEPOINT \(name)")
                return true
            }
        } catch let error as PGError where error.isRejection {}
        try await target.simpleQuery("ROLLBACK TO SAVEPOINT \(name); RELEASE SAVEPOINT \(name)")
        return false
    }

    /// SQLSTATE foreign_key_violation.
    private static let foreignKeyViolation = "23503"

    /// Tries the postponed changes again, in order, while any of them goes in; then judges those still refused.
    private func retryPostponed() async throws {
        while !postponed.isEmpty {
            let round = postponed.takeAll()
            for item in round {
                try await applyOne(item.source, item.change, visible: item.visible, refused: .postpone)
            }
            if postponed.changes.count == round.count {
                for item in postponed.takeAll() {
                    try await applyOne(item.source, item.change, visible: item.visible, refused: .hold)
                }
            }
        }
    }

    /// Whether the backfill of `source` will copy every row later: it has not placed a chunk of its current request.
    private func copiedLater(_ source: Int) async throws -> Bool {
        let table = plan.sources[source].info.table.description
        let row = try await target.query(
            "SELECT state, last_key IS NULL FROM walbridge.backfill WHERE slot = $1 AND source_table = $2",
            [slot, table]
        ).rows.first
        guard let row else { return backfill == .auto }
        return row[0] != BackfillPhase.done.rawValue && row[1] == "t"
    }

    /// Stops the bridge on a rejected change, or keeps it in the dead letters (`on_error: dead_letter`).
    private func reject(_ change: RowChange, source: Int, error: PGError) async throws {
        let rejected = describe(change, source: source, error: error)
        guard onError == .deadLetter else { throw BridgeError.rejected(rejected) }
        logger.warning("change rejected, kept in walbridge.dead_letters", metadata: ["change": "\(rejected)"])
        try await DeadLetters.record(rejected, change: change, plan: plan.sources[source], slot: slot, on: target)
        metrics?.deadLettered()
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
            operation: "\(change.kind)",
            key: "(\(keyNames.joined(separator: ", ")))=(\(keyValues.joined(separator: ", ")))",
            lsn: change.lsn, sqlState: error.sqlState, message: error.description)
    }
}
