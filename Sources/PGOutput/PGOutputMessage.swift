/// Every message pgoutput (protocol 1–3, PostgreSQL 15) can send.
public enum PGOutputMessage: Hashable, Sendable {
    /// 'B': a committed transaction starts.
    case begin(Begin)
    /// 'C': the transaction ends.
    case commit(Commit)
    /// 'O': the transaction came from a replication origin.
    case origin(Origin)
    /// 'R': a table's schema.
    case relation(Relation)
    /// 'Y': a user-defined column type.
    case type(TypeInfo)
    /// 'I': a row was inserted.
    case insert(Insert)
    /// 'U': a row was updated.
    case update(Update)
    /// 'D': a row was deleted.
    case delete(Delete)
    /// 'T': tables were truncated.
    case truncate(Truncate)
    /// 'M': a logical decoding message.
    case message(LogicalMessage)
    /// 'S' (protocol 2+): a block of an in-progress transaction's changes starts.
    case streamStart(StreamStart)
    /// 'E' (protocol 2+): the stream block ends.
    case streamStop
    /// 'c' (protocol 2+): a streamed transaction committed.
    case streamCommit(StreamCommit)
    /// 'A' (protocol 2+): a streamed transaction or subtransaction aborted.
    case streamAbort(StreamAbort)
    /// 'b' (protocol 3): a prepared transaction starts.
    case beginPrepare(BeginPrepare)
    /// 'P' (protocol 3): the transaction was prepared.
    case prepare(Prepare)
    /// 'K' (protocol 3): a prepared transaction was committed.
    case commitPrepared(CommitPrepared)
    /// 'r' (protocol 3): a prepared transaction was rolled back.
    case rollbackPrepared(RollbackPrepared)
    /// 'p' (protocol 3): a streamed transaction was prepared.
    case streamPrepare(Prepare)
}
