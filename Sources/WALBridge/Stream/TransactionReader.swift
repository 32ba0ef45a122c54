import Logging
import PGClient
import PGOutput

/// Turns the pgoutput stream into apply events for the mapped tables: skips transactions already
/// applied (at or before the checkpoint) and the bridge's own writes (marked by a logical message),
/// and stops on schema drift before anything of the drifted transaction is applied. With streaming,
/// one large transaction's chunks become events before it commits; anything a single open target
/// transaction cannot follow (an abort, another commit of mapped changes in between) asks for a replay without
/// streaming.
struct TransactionReader: Sendable {
    /// The prefix of the logical message the bridge writes first in each of its target transactions.
    static let markerPrefix = "walbridge"
    /// The marker `configuration`'s bridge starts its target transactions with, if they need one: where the target is
    /// the source (`sameDatabase`), or where another direction reads the target (`partnerSlot`).
    static func marker(for configuration: Configuration, sameDatabase: Bool) -> Statement? {
        sameDatabase || configuration.partnerSlot != nil ? marker(slot: configuration.slot) : nil
    }

    /// The prefix of the message a cut-over writes while it drains a slot's bridge: read `walbridge.control` now.
    static let nudgePrefix = "walbridge_fence"

    /// The transaction a cut-over writes every few milliseconds while it waits for the bridge of `slot` to stop.
    static func nudge(slot: String) -> Statement {
        Statement("SELECT pg_logical_emit_message(true, $1, $2)", [nudgePrefix, slot])
    }

    /// The logical message that marks a target transaction as the bridge of `slot`'s own, written first in it.
    static func marker(slot: String) -> Statement {
        Statement("SELECT pg_logical_emit_message(true, $1, $2)", [markerPrefix, slot])
    }

    /// What the reader knows of one relation id.
    private struct RelationState: Sendable {
        var source: Int
        /// For each staged column, its position in the relation's tuples.
        var positions: [Int]
    }

    let plan: MappingPlan
    let slot: String
    /// The markers whose transactions are skipped: this bridge's own, and the other direction's (`partnerSlot`).
    private let skippedMarkers: [[UInt8]]
    let checkpoint: LSN
    /// This run's backfill token: watermarks carrying it open and close chunk windows.
    let backfillRun: String?
    /// The chunk window between a low watermark and its high one.
    private var window: BackfillWindow?
    /// Transactions seen to commit, for telling whether one a chunk could not see committed before its window.
    private(set) var recentCommits = RecentCommits(capacity: 65_536)
    private var relations: [UInt32: RelationState?] = [:]
    private var transaction: Begin?
    /// The streamed transaction whose chunks are being applied, between its first Stream Start and its Stream Commit.
    private var streamed: UInt32?
    /// Set while a transaction is sent whole inside `streamed` (the bridge's own, one of unmapped tables), to whether
    /// the
    /// streamed one was being skipped. Such a transaction is passed over, unless it carries a change of a mapped table
    /// not yet applied, which the open target transaction can't take in its order.
    private var streamSkipping: Bool?
    private var skipping = false
    /// Changes of the current transaction seen so far (for the log of skipped ones).
    private(set) var inTransaction = false
    /// Deliver only transactions that commit at or before this position (`pause --at-lsn`, `run --until-lsn`).
    var stopAfter: LSN?
    /// Set once the stream passed `stopAfter`: nothing more is delivered.
    private(set) var stopped = false
    /// Set when a cut-over's nudge for this slot went by: a pause is being asked, read the control row at once.
    var nudged = false

    /// A reader for `plan` that skips transactions committed before `checkpoint`.
    init(plan: MappingPlan, slot: String, partnerSlot: String? = nil, checkpoint: LSN, backfillRun: String? = nil) {
        self.plan = plan
        self.slot = slot
        skippedMarkers = ([slot] + (partnerSlot.map { [$0] } ?? [])).map { Array($0.utf8) }
        self.checkpoint = checkpoint
        self.backfillRun = backfillRun
    }

    /// The events one stream item produces.
    mutating func consume(_ item: StreamItem) throws -> [ApplyEvent] {
        if stopped { return [] }
        switch item {
        case .keepalive(let keepalive):
            // Everything before the keepalive's position was sent: no transaction committing at or before the stop is
            // left (a streamed one still open commits later), unless one sent whole is under way.
            if let stop = stopAfter, keepalive.walEnd > stop, transaction == nil {
                stopped = true
                return []
            }
            // Inside a streamed transaction, with no whole one under way, every transaction committed before the
            // keepalive's position was seen too: the position may move past the streamed one's start, which commits
            // later.
            if inTransaction && (streamed == nil || transaction != nil) { return [] }
            return [.idle(keepalive.walEnd)]
        case .message(let lsn, let message):
            if let stop = stopAfter, Self.commitsAfter(message, stop) {
                stopped = true
                return []
            }
            return try consume(message, at: lsn)
        }
    }

    /// Whether the message begins or commits a transaction whose commit lies after `stop`.
    private static func commitsAfter(_ message: PGOutputMessage, _ stop: LSN) -> Bool {
        switch message {
        case .begin(let begin): begin.finalLSN > stop
        case .streamCommit(let commit): commit.commitLSN > stop
        default: false
        }
    }

    private mutating func consume(_ message: PGOutputMessage, at lsn: LSN) throws -> [ApplyEvent] {
        switch message {
        case .begin(let begin):
            if streamed != nil {
                streamSkipping = skipping
                transaction = begin
                skipping = begin.finalLSN < checkpoint
                return []
            }
            transaction = begin
            inTransaction = true
            // The checkpoint is the end of the last applied commit: every commit before it was applied.
            skipping = begin.finalLSN < checkpoint
            return skipping ? [] : [.begin(xid: begin.xid)]
        case .commit(let commit):
            guard let begin = transaction else {
                throw BridgeError.unexpectedMessage("Commit without Begin", at: WALPosition(lsn))
            }
            transaction = nil
            committed(begin.xid)
            if let resumed = streamSkipping {
                streamSkipping = nil
                skipping = resumed
                return []
            }
            skipping = false
            inTransaction = false
            return [
                .commit(
                    TransactionEnd(
                        xid: begin.xid, commitLSN: commit.commitLSN, endLSN: commit.endLSN,
                        commitTime: commit.commitTime))
            ]
        case .relation(let relation):
            relations[relation.id] = try resolve(relation, at: lsn)
        case .message(let logical):
            if logical.transactional && logical.prefix == Self.markerPrefix
                && skippedMarkers.contains(logical.content) {
                skipping = true
            } else if logical.transactional && logical.prefix == Self.nudgePrefix
                && logical.content == Array(slot.utf8) {
                nudged = true
            } else if !logical.transactional && logical.prefix == BackfillMark.prefix {
                return try watermark(logical.content, at: lsn)
            }
        case .type, .origin:
            break
        case .insert(let insert):
            guard !skipping, let state = try mapped(insert.relationID, at: lsn) else { break }
            let new = try staged(insert.new, state, at: lsn)
            touch(state.source, new)
            return [
                .change(source: state.source, RowChange(kind: .insert, new: new, old: nil, oldIsFull: false, lsn: lsn))
            ]
        case .update(let update):
            guard !skipping, let state = try mapped(update.relationID, at: lsn) else { break }
            let new = try staged(update.new, state, at: lsn)
            let old = try update.old.map { try staged($0.values, state, at: lsn) }
            touch(state.source, new)
            if let old { touch(state.source, old) }
            return [
                .change(
                    source: state.source,
                    RowChange(kind: .update, new: new, old: old, oldIsFull: update.old?.kind == .full, lsn: lsn))
            ]
        case .delete(let delete):
            guard !skipping, let state = try mapped(delete.relationID, at: lsn) else { break }
            let old = try staged(delete.old.values, state, at: lsn)
            touch(state.source, old)
            return [
                .change(
                    source: state.source,
                    RowChange(kind: .delete, new: nil, old: old, oldIsFull: delete.old.kind == .full, lsn: lsn))
            ]
        case .truncate(let truncate):
            guard !skipping else { break }
            let sources = try truncate.relationIDs.compactMap { try mapped($0, at: lsn)?.source }
            // A chunk read around a TRUNCATE of its table may hold rows that are gone: read it again.
            if let source = window?.source, sources.contains(source) { window?.interrupted = true }
            return sources.isEmpty
                ? [] : [.truncate(sources: sources, lsn: lsn, restartIdentity: truncate.restartIdentity)]
        case .streamStart(let start):
            // Chunks of one large transaction are applied as they come; a second one at the same time is not.
            if streamed == nil && !inTransaction {
                streamed = start.xid
                inTransaction = true
                skipping = false
                return [.streamStart]
            } else if streamed != start.xid {
                throw StreamingFallback(reason: "two transactions streamed at once", at: lsn)
            }
        case .streamStop:
            break
        case .streamCommit(let commit):
            guard commit.xid == streamed else {
                throw StreamingFallback(reason: "commit of a transaction not being streamed", at: lsn)
            }
            // Already applied before a restart: its chunks must not count twice, so replay without streaming.
            if commit.commitLSN < checkpoint {
                throw StreamingFallback(reason: "a streamed transaction was already applied", at: lsn)
            }
            streamed = nil
            inTransaction = false
            skipping = false
            committed(commit.xid)
            return [
                .commit(
                    TransactionEnd(
                        xid: commit.xid, commitLSN: commit.commitLSN, endLSN: commit.endLSN,
                        commitTime: commit.commitTime))
            ]
        case .streamAbort:
            throw StreamingFallback(reason: "a streamed transaction or subtransaction was rolled back", at: lsn)
        case .beginPrepare, .prepare, .commitPrepared, .rollbackPrepared, .streamPrepare:
            throw BridgeError.unexpectedMessage(message.kindName, at: WALPosition(lsn))
        }
        return []
    }

    /// Notes a commit for the backfill's checks.
    private mutating func committed(_ xid: UInt32) {
        recentCommits.insert(xid)
    }

    /// Notes a row of `source` changed inside a chunk window of that table.
    private mutating func touch(_ source: Int, _ values: [TupleValue]) {
        guard window?.source == source else { return }
        window?.touched.insert(RowKey(values, at: plan.sources[source].rowKey))
    }

    /// Opens a chunk window at a low watermark of this run; closes it at the matching high one.
    private mutating func watermark(_ content: [UInt8], at lsn: LSN) throws -> [ApplyEvent] {
        guard let mark = BackfillMark(content: content), mark.run == backfillRun, mark.slot == slot else { return [] }
        switch mark.edge {
        case .low:
            // A transaction streamed before the low watermark may have changed keys of the chunk there, unseen by the
            // window; if it commits after the chunk's snapshot, the chunk would hold older values. Read it again.
            window = BackfillWindow(
                seq: mark.seq, source: mark.source, lsn: lsn, commitsBefore: recentCommits.count,
                interrupted: streamed != nil)
            return []
        case .high:
            // A chunk can't be placed while a streamed transaction is open, nor one read then again (it would be
            // discarded as long as large transactions keep streaming): replay without streaming, as the chunk's own
            // commit used to ask.
            if streamed != nil {
                throw StreamingFallback(
                    reason: "a backfill chunk was read while a streamed transaction was open", at: lsn)
            }
            guard var closed = window, closed.seq == mark.seq else { return [] }
            window = nil
            closed.lsn = lsn
            closed.interrupted = closed.interrupted || inTransaction
            return [.backfillWindow(closed)]
        }
    }

    /// The state of a relation id; nil for a relation the mapping does not cover. A change of a mapped table in a
    /// transaction interleaved with a streamed one asks for the replay without streaming.
    private func mapped(_ id: UInt32, at lsn: LSN) throws -> RelationState? {
        guard let state = relations[id] else { throw BridgeError.unknownRelation(id, at: WALPosition(lsn)) }
        if streamSkipping != nil, state != nil {
            throw StreamingFallback(reason: "a transaction committed while a streamed one was open", at: lsn)
        }
        return state
    }

    /// Checks a Relation message against the plan: every staged column must still exist with the same type.
    private func resolve(_ relation: Relation, at lsn: LSN) throws -> RelationState? {
        let name = TableName(schema: relation.namespace, name: relation.name)
        if let renamed = plan.sources.first(where: { $0.info.oid == relation.id && $0.info.table != name }) {
            throw BridgeError.schemaDrift(
                table: renamed.info.table, at: WALPosition(lsn), reason: "the table was renamed to \(name)")
        }
        guard let source = plan.sources.firstIndex(where: { $0.info.table == name }) else { return nil }
        let sourcePlan = plan.sources[source]
        var positions: [Int] = []
        for column in sourcePlan.stagedColumns {
            guard let position = relation.columns.firstIndex(where: { $0.name == column.name }) else {
                throw BridgeError.schemaDrift(
                    table: name, at: WALPosition(lsn), reason: "mapped column \(column.name) no longer exists")
            }
            let now = relation.columns[position].typeOID
            guard now == column.typeOID else {
                throw BridgeError.schemaDrift(
                    table: name, at: WALPosition(lsn),
                    reason: "mapped column \(column.name) changed type (type oid \(column.typeOID) → \(now))")
            }
            positions.append(position)
        }
        return RelationState(source: source, positions: positions)
    }

    /// A tuple in the relation's column order, reordered to the staged columns.
    private func staged(_ tuple: [TupleValue], _ state: RelationState, at lsn: LSN) throws -> [TupleValue] {
        try state.positions.map { position in
            guard position < tuple.count else {
                throw BridgeError.corruptStream(
                    at: WALPosition(lsn), reason: "tuple has \(tuple.count) columns, its relation more")
            }
            if case .binary = tuple[position] {
                throw BridgeError.corruptStream(
                    at: WALPosition(lsn), reason: "binary tuple value, but the stream was started in text mode")
            }
            return tuple[position]
        }
    }
}
