import PGOutput

/// Errors of the bridge's own making, each a sentence an operator can act on.
public enum BridgeError: Error, CustomStringConvertible, Equatable {
    /// The stream carried bytes that do not decode.
    case corruptStream(at: LSN, reason: String)
    /// A change referred to a relation the stream never described.
    case unknownRelation(UInt32, at: LSN)
    /// A message arrived where the protocol does not allow it.
    case unexpectedMessage(String, at: LSN)
    /// The source cannot be used as it is; the text says what to change.
    case sourceNotReady(String)

    public var description: String {
        switch self {
        case .corruptStream(let lsn, let reason):
            return "corrupt replication data at LSN \(lsn): \(reason)"
        case .unknownRelation(let id, let lsn):
            return "change at LSN \(lsn) refers to relation \(id), which the stream never described"
        case .unexpectedMessage(let kind, let lsn):
            return "unexpected \(kind) message at LSN \(lsn)"
        case .sourceNotReady(let text):
            return text
        }
    }
}
