import PGOutput

/// Turns pgoutput messages into `ChangeEvent`s, tracking the open transaction and the relations described.
struct ChangeAssembler: Sendable {
    private var relations = RelationCache()
    private var transaction: Begin?
    /// The end LSN of the last commit seen: everything before it has been turned into events.
    private(set) var lastCommitEnd: LSN?

    /// A new assembler that has seen nothing yet.
    init() {}

    /// Whether a transaction has begun and not yet committed.
    var inTransaction: Bool {
        transaction != nil
    }

    /// The events one message produces (none for Begin, Commit, Relation, Type, Origin).
    mutating func consume(_ message: PGOutputMessage, at lsn: LSN) throws -> [ChangeEvent] {
        func event(_ operation: ChangeEvent.Operation, _ relationID: UInt32) throws -> ChangeEvent {
            ChangeEvent(
                lsn: lsn, xid: transaction?.xid, commitTime: transaction?.commitTime, operation: operation,
                relation: try relations.relation(relationID, at: lsn))
        }
        switch message {
        case .begin(let begin):
            transaction = begin
        case .commit(let commit):
            transaction = nil
            lastCommitEnd = commit.endLSN
        case .relation(let relation):
            relations.update(relation)
        case .type, .origin:
            break
        case .insert(let insert):
            var change = try event(.insert, insert.relationID)
            change.new = insert.new
            return [change]
        case .update(let update):
            var change = try event(.update, update.relationID)
            change.new = update.new
            change.old = update.old
            return [change]
        case .delete(let delete):
            var change = try event(.delete, delete.relationID)
            change.old = delete.old
            return [change]
        case .truncate(let truncate):
            return try truncate.relationIDs.map { id in
                var change = try event(.truncate, id)
                change.cascade = truncate.cascade
                change.restartIdentity = truncate.restartIdentity
                return change
            }
        case .message(let logical):
            let inside = logical.transactional ? transaction : nil
            return [ChangeEvent(
                lsn: lsn, xid: inside?.xid, commitTime: inside?.commitTime, operation: .message, message: logical)]
        case .streamStart, .streamStop, .streamCommit, .streamAbort, .beginPrepare, .prepare,
            .commitPrepared, .rollbackPrepared, .streamPrepare:
            throw BridgeError.unexpectedMessage(message.kindName, at: WALPosition(lsn))
        }
        return []
    }
}
