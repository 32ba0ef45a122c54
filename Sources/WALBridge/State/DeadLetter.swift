/// One change kept in `walbridge.dead_letters`.
public struct DeadLetter: Sendable, Equatable {
    public var id: Int
    public var createdAt: String
    public var lsn: String
    public var sourceTable: String
    public var targetTable: String?
    public var operation: String
    /// The source row key as JSON, e.g. `{"id": "3"}`.
    public var key: String
    public var sqlState: String?
    public var error: String
}
