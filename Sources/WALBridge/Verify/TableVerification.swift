/// What `verify` found for one target table.
public struct TableVerification: Sendable {
    public var table: TableName
    /// Rows the mapping over the source gives (in full mode), or keys compared (with a sample).
    public var rows: Int
    /// Rows that differ, in key order of discovery.
    public var mismatches: [Mismatch]
    /// Target rows whose source row is gone, kept because the target says `on_delete: ignore`.
    public var keptByOnDeleteIgnore: Int
}
