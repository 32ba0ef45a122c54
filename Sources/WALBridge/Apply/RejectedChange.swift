import PGClient
import PGOutput

/// A change the target refused: enough to find the row on both sides and to know why.
public struct RejectedChange: Sendable, Equatable, CustomStringConvertible {
    public var sourceTable: TableName
    public var targetTable: TableName?
    public var operation: String
    /// The source row key, as `(id)=(42)`.
    public var key: String
    var lsn: LSN
    public var sqlState: String?
    public var message: String

    public var description: String {
        let target = targetTable.map { " into \($0)" } ?? ""
        let state = sqlState.map { " (SQLSTATE \($0))" } ?? ""
        return "the target rejected \(operation) of \(sourceTable) \(key) at LSN \(lsn)\(target): \(message)\(state)"
    }
}
