/// Errors of the bridge's own making, each a sentence an operator can act on.
public enum BridgeError: Error, CustomStringConvertible, Equatable {
    /// The stream carried bytes that do not decode.
    case corruptStream(at: WALPosition, reason: String)
    /// A change referred to a relation the stream never described.
    case unknownRelation(UInt32, at: WALPosition)
    /// A message arrived where the protocol does not allow it.
    case unexpectedMessage(String, at: WALPosition)
    /// The source cannot be used as it is; the text says what to change.
    case sourceNotReady(String)
    /// A mapped source table changed shape under the bridge.
    case schemaDrift(table: TableName, at: WALPosition, reason: String)
    /// The source truncated a table whose target says `on_truncate: stop`.
    case truncateStops(table: TableName, target: TableName, at: WALPosition)
    /// The target rejected a change (`on_error: stop`).
    case rejected(RejectedChange)
    /// The target cannot be used as it is; the text says what to change.
    case targetNotReady(String)
    /// `pause --at-lsn` came too late: the bridge had already applied a transaction committing after the stop.
    case pastStop(slot: String, stop: WALPosition, applied: WALPosition)
    /// A connection string libpq cannot parse; the text says why, without echoing it.
    case malformedAddress(String)
    /// The target refused a batch (`cause`), and the ordered replay that finds the change at fault could not start.
    case replayBlocked(cause: String, through: WALPosition, reason: String)

    public var description: String {
        switch self {
        case .corruptStream(let lsn, let reason):
            return "corrupt replication data at LSN \(lsn): \(reason)"
        case .unknownRelation(let id, let lsn):
            return "change at LSN \(lsn) refers to relation \(id), which the stream never described"
        case .unexpectedMessage(let kind, let lsn):
            return "unexpected \(kind) message at LSN \(lsn)"
        case .sourceNotReady(let text), .targetNotReady(let text), .malformedAddress(let text):
            return text
        case .schemaDrift(let table, let lsn, let reason):
            return "schema drift on \(table) at LSN \(lsn): \(reason); nothing of that transaction was applied. "
                + "Update the mapping (and the target) to match, then restart"
        case .truncateStops(let table, let target, let lsn):
            return "\(table) was truncated at LSN \(lsn), and its target \(target) has on_truncate: stop; "
                + "truncate the target yourself and set on_truncate (truncate or ignore), then restart"
        case .rejected(let change):
            return change.description
        case .replayBlocked(let cause, let through, let reason):
            return "the target refused a batch of changes up to LSN \(through): \(cause); "
                + "replaying them one at a time to find the change at fault cannot start: \(reason). "
                + "Mend that (or the target, for the refusal), then restart"
        case .pastStop(let slot, let stop, let applied):
            return "the bridge of slot \(slot) has already applied a source transaction committing at \(applied), "
                + "after \(stop), so it cannot stop at \(stop); nothing was asked. Pause at a later LSN, "
                + "or stop the writes first and take pg_current_wal_lsn() then"
        }
    }
}
