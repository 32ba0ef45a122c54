import PGOutput

/// The apply path's decisions, without I/O: source events in, target actions out. Many source transactions share one
/// target transaction (never splitting one); changes are folded per row and written set-based a slice at a time, the
/// checkpoint commits with them, and the position reported to the source moves only once the target holds it. After
/// a rejection, ordered replay applies one change at a time, one target transaction per source transaction.
struct ApplyMachine {
    /// How the machine applies.
    enum Mode: Equatable {
        /// Folded slices, many source transactions per target transaction.
        case batched
        /// One change at a time until a commit past `through`, to find the change the target rejects.
        case ordered(through: LSN)
    }

    /// What is written and not yet waited for.
    private enum InFlight {
        case slice
        /// A COMMIT, whose end becomes durable once it succeeds.
        case commit(LSN)
    }

    private let plan: MappingPlan
    private let limits: ApplyLimits
    /// The target is the source: the bridge's transactions are marked, and nothing is recorded at quiet points.
    private let markWrites: Bool
    /// Backfill chunks go to sessions of their own instead of through the batch.
    private let chunkSessions: Bool
    /// Whether changes are counted per table and kind (with metrics).
    private let counting: Bool
    private let now: () -> ContinuousClock.Instant

    /// How the actions last returned were decided (a failure while performing them is judged by it).
    private(set) var mode: Mode
    /// Ordered replay committed past the change at fault: batched apply from the next event on, once that COMMIT
    /// has been performed (if it fails, the failure belongs to ordered replay).
    private var replayDone = false
    /// A target transaction is open.
    private(set) var open = false
    /// Inside a source transaction: some of its changes were handled, its commit not yet.
    private(set) var midTransaction = false
    /// The highest source position handled: ordered replay runs through it after a rejection.
    private(set) var highest = LSN.zero
    private var pending: [(source: Int, change: RowChange)] = []
    /// The bytes of the pending changes' values.
    private var pendingBytes = 0
    /// Source transactions (xids) whose changes are pending: what reads their rows back must see them committed.
    private var batchXids: [UInt32] = []
    /// The source transaction being applied, sent whole: its commit is written, but the source may show it a moment
    /// later.
    private var openXid: UInt32?
    /// Inside a streamed transaction: the source has not committed it, so no row can be read back from the source.
    private var streaming = false
    /// The end of the last source transaction the open batch holds (or that had nothing to apply), not yet committed.
    private var lastEnd: Checkpoint?
    /// Backfill chunks whose progress the open batch commits with.
    private var chunks: [ChunkProgress] = []
    private var batchStart: ContinuousClock.Instant
    private var batchRows = 0
    private var counts: [Int: [RowChange.Kind: Int]] = [:]
    private var inFlight: InFlight?
    /// The position reported to the source.
    private(set) var durable: LSN
    /// The checkpoint last written to `walbridge.progress`.
    private var recorded: LSN

    /// A machine for `plan` starting at the checkpoint `durable`, in ordered replay through `orderedThrough` if given.
    init(
        plan: MappingPlan, limits: ApplyLimits, markWrites: Bool, chunkSessions: Bool, counting: Bool, durable: LSN,
        orderedThrough: LSN?, now: @escaping () -> ContinuousClock.Instant = { .now }
    ) {
        self.plan = plan
        self.limits = limits
        self.markWrites = markWrites
        self.chunkSessions = chunkSessions
        self.counting = counting
        self.now = now
        self.durable = durable
        recorded = durable
        mode = orderedThrough.map { .ordered(through: $0) } ?? .batched
        batchStart = now()
    }

    /// The actions for one event from the reader.
    mutating func handle(_ event: ApplyEvent) -> [ApplyAction] {
        leaveOrderedReplay()
        var actions: [ApplyAction] = []
        switch event {
        case .begin(let xid):
            openXid = xid
        case .change(let source, let change):
            apply(source, change, into: &actions)
        case .truncate(let sources, let lsn, let restartIdentity):
            midTransaction = true
            highest = max(highest, lsn)
            writeSlice(into: &actions)
            settle(into: &actions)
            begin(into: &actions)
            actions.append(truncation(of: sources, at: lsn, restartIdentity: restartIdentity))
        case .commit(let end):
            // xids below 3 are PostgreSQL's special ones, visible to everyone.
            if midTransaction && end.xid >= 3 { batchXids.append(end.xid) }
            openXid = nil
            endTransaction(end.checkpoint, into: &actions)
        case .streamStart:
            // A streamed transaction applies in a target transaction of its own, so that stopping inside it (a pause,
            // a lost connection) keeps the complete transactions before it.
            if open || !pending.isEmpty { commitBatch(into: &actions) }
            streaming = true
        case .idle(let lsn):
            if !open && pending.isEmpty {
                recordQuiet(lsn, into: &actions)
            } else if streaming {
                recordAside(lsn, into: &actions)
            }
        case .backfillWindow:
            // The bridge resolves windows into chunks before they reach the applier.
            break
        case .backfill(let chunk):
            backfill(chunk, into: &actions)
        }
        return actions
    }

    /// The actions for a moment with nothing more queued, between source transactions: commit now (or record where
    /// transactions with nothing to apply ended), and report the position while the stream is quiet.
    mutating func quiet() -> [ApplyAction] {
        leaveOrderedReplay()
        var actions: [ApplyAction] = []
        if open || !pending.isEmpty || lastEnd != nil { commitBatch(into: &actions) }
        settle(into: &actions)
        return actions
    }

    /// The actions once no more events come: commit what is complete, then end the target session's work.
    mutating func finish() -> [ApplyAction] {
        leaveOrderedReplay()
        var actions: [ApplyAction] = []
        if !midTransaction && (open || !pending.isEmpty) { commitBatch(into: &actions) }
        settle(into: &actions)
        return actions + abandon()
    }

    /// The actions that give up the open target transaction (after a failure, or at the end).
    mutating func abandon() -> [ApplyAction] {
        let action = ApplyAction.abandon(rollback: open)
        inFlight = nil
        streaming = false
        if open {
            open = false
            pending.removeAll()
            pendingBytes = 0
            chunks.removeAll()
            counts.removeAll()
        }
        return [action]
    }

    private mutating func leaveOrderedReplay() {
        guard replayDone else { return }
        replayDone = false
        mode = .batched
    }

    // MARK: - Changes and transactions

    private mutating func apply(
        _ source: Int, _ change: RowChange, chunkRow: Bool = false, into actions: inout [ApplyAction]
    ) {
        midTransaction = true
        if counting { counts[source, default: [:]][change.kind, default: 0] += 1 }
        highest = max(highest, change.lsn)
        if case .ordered = mode {
            begin(into: &actions)
            let visible = xidsToSee
            // In place, an update only finds the rows its source transactions made visible.
            if markWrites && plan.hasInPlaceTargets { actions.append(.waitUntilVisible(visible)) }
            actions.append(.applyOne(source: source, change, visible: visible, chunkRow: chunkRow))
        } else {
            pending.append((source, change))
            pendingBytes += change.byteCount
            if pending.count >= limits.sliceRows || pendingBytes >= limits.sliceBytes { writeSlice(into: &actions) }
        }
    }

    /// A source transaction (or backfill chunk) ends at `checkpoint`.
    private mutating func endTransaction(_ checkpoint: Checkpoint, into actions: inout [ApplyAction]) {
        midTransaction = false
        highest = max(highest, checkpoint.endLSN)
        streaming = false
        if case .ordered(let through) = mode {
            lastEnd = checkpoint
            commitBatch(into: &actions)
            // One change at a time, nothing clears these: the last commit is the one a read-back may still not see.
            batchXids = Array(batchXids.suffix(1))
            if checkpoint.endLSN > through {
                replayDone = true
                actions.append(.orderedReplayDone(checkpoint.endLSN))
            }
            return
        }
        lastEnd = checkpoint
        if !open && pending.isEmpty {
            settle(into: &actions)
            // Nothing to apply: the position moves once the target records it (see recordQuiet), when the stream is
            // quiet or with the next batch's checkpoint. Where the target is the source, nothing is recorded.
            if markWrites { advance(checkpoint.endLSN, into: &actions) }
        } else if batchRows + pending.count >= limits.batchRows || now() - batchStart >= limits.batchTime {
            commitBatch(into: &actions)
        }
    }

    /// A backfill chunk is one more transaction at its high watermark, committing its progress with its rows.
    private mutating func backfill(_ chunk: BackfillChunk, into actions: inout [ApplyAction]) {
        if chunkSessions, case .batched = mode {
            // Everything before the high watermark is committed first; the chunk's rows follow on their own sessions.
            commitBatch(into: &actions)
            settle(into: &actions)
            highest = max(highest, chunk.lsn)
            actions.append(.writeChunk(chunk))
        } else {
            for values in chunk.stagedRows(plan.sources[chunk.source].stagedColumns.count) {
                apply(
                    chunk.source, RowChange(kind: .update, new: values, old: nil, oldIsFull: false, lsn: chunk.lsn),
                    chunkRow: true, into: &actions)
            }
        }
        actions.append(.tookChunk(chunk))
        begin(into: &actions)
        chunks.append(chunk.progress)
        openXid = nil
        endTransaction(Checkpoint(commitLSN: chunk.lsn, endLSN: chunk.lsn, commitTime: nil), into: &actions)
    }

    /// Empties the targets a TRUNCATE of these sources empties, or fails where a mapping says to stop: the entries'
    /// columns cleared where they share a target (`on_delete: clear`), then every other target in one TRUNCATE, as the
    /// source truncated its tables, so foreign keys among them hold (with their sequences restarted if it restarted its
    /// own).
    private func truncation(of sources: [Int], at lsn: LSN, restartIdentity: Bool) -> ApplyAction {
        var statements: [String] = []
        var tables: [String] = []
        for source in sources {
            for mapped in plan.sources[source].targets where !mapped.inPlace {
                switch mapped.mapping.onTruncate {
                case .truncate where mapped.mapping.onDelete == .clear: statements.append(mapped.truncation)
                case .truncate: if !tables.contains(mapped.ownRows) { tables.append(mapped.ownRows) }
                case .ignore: continue
                case .stop:
                    return .fail(
                        BridgeError.truncateStops(
                            table: plan.sources[source].info.table, target: mapped.mapping.into, at: WALPosition(lsn)))
                }
            }
        }
        if !tables.isEmpty {
            statements.append(
                "TRUNCATE \(tables.joined(separator: ", "))"
                    + (restartIdentity ? " RESTART IDENTITY" : ""))
        }
        return .truncate(statements)
    }

    // MARK: - Target transactions

    private mutating func begin(into actions: inout [ApplyAction]) {
        guard !open else { return }
        settle(into: &actions)
        actions.append(.begin)
        open = true
        batchStart = now()
        batchRows = 0
    }

    /// Waits for the work in flight; a COMMIT that succeeded makes its batch durable.
    private mutating func settle(into actions: inout [ApplyAction]) {
        guard let flight = inFlight else { return }
        inFlight = nil
        actions.append(.settle)
        if case .commit(let end) = flight { advance(end, into: &actions) }
    }

    private mutating func advance(_ lsn: LSN, into actions: inout [ApplyAction]) {
        guard lsn > durable else { return }
        durable = lsn
        actions.append(.advance(lsn))
    }

    /// Moves the position reported to the source to `lsn`, a point with nothing to apply, once the target has recorded
    /// it in walbridge.progress (which keeps wait_for_lsn current too): the source must not confirm more than the
    /// target
    /// holds. Not where the target is the source: the write would itself move the source's WAL, and the next keepalive.
    private mutating func recordQuiet(_ lsn: LSN, into actions: inout [ApplyAction]) {
        settle(into: &actions)
        if !markWrites && lsn > recorded {
            actions.append(.recordQuiet(lsn))
            recorded = lsn
        }
        advance(lsn, into: &actions)
    }

    /// Moves the position to `lsn` while a streamed transaction, begun before it and committing after it, is open on
    /// the
    /// target session: every other transaction before `lsn` had nothing to apply (one that had would have ended the
    /// streaming), and the streamed one comes again in full after a restart from there, as its commit lies past it.
    private mutating func recordAside(_ lsn: LSN, into actions: inout [ApplyAction]) {
        guard !markWrites, lsn > recorded else { return }
        // The batch before the streamed transaction must have committed: its COMMIT may still be in flight.
        settle(into: &actions)
        actions.append(.recordAside(lsn))
        recorded = lsn
        advance(lsn, into: &actions)
    }

    /// What rows read back now must see committed on the source: the pending transactions, and the one being applied
    /// once it has changes here (a synchronous standby, for one, holds a written commit back from other sessions until
    /// it
    /// confirms, while the stream already delivered it).
    private var xidsToSee: [UInt32] {
        guard midTransaction, let openXid, openXid >= 3 else { return batchXids }
        return batchXids + [openXid]
    }

    /// Writes what is pending, records the checkpoint and commits. In batched apply the COMMIT stays in flight while
    /// the next batch is folded; its position becomes durable at the next settle, which every other use of the session
    /// waits for first.
    private mutating func commitBatch(into actions: inout [ApplyAction]) {
        writeSlice(into: &actions)
        guard let end = lastEnd else {
            settle(into: &actions)
            return
        }
        lastEnd = nil
        guard open else {
            recordQuiet(end.endLSN, into: &actions)
            return
        }
        actions.append(
            .commit(
                ApplyAction.Commit(
                    checkpoint: end, chunks: chunks, rows: batchRows, counts: counts, started: batchStart)))
        open = false
        recorded = max(recorded, end.endLSN)
        chunks.removeAll()
        counts.removeAll()
        inFlight = .commit(end.endLSN)
        if case .ordered = mode { settle(into: &actions) }
    }

    /// Folds the pending changes per row into a slice written inside the open transaction.
    private mutating func writeSlice(into actions: inout [ApplyAction]) {
        guard !pending.isEmpty else { return }
        begin(into: &actions)
        let visible = xidsToSee
        batchXids.removeAll()
        // In place, an update only finds the rows its source transactions made visible.
        if markWrites && plan.hasInPlaceTargets { actions.append(.waitUntilVisible(visible)) }
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
        pendingBytes = 0
        let rows = plan.inApplyOrder(order).compactMap { source in
            folders[source].map { ApplyAction.Slice.Source(source: source, rows: $0.rows) }
        }
        settle(into: &actions)
        actions.append(.write(ApplyAction.Slice(rows: rows, visible: visible, streamed: streaming)))
        inFlight = .slice
    }
}
