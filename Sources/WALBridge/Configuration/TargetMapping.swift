/// One `into` entry: how a source table feeds one target table.
public struct TargetMapping: Hashable, Sendable {
    public var into: TableName
    /// Target column names that find the row; each is one of `columns`.
    public var key: [String]
    /// In file order.
    public var columns: [ColumnMapping]
    /// The SQL predicate over the source row that decides whether the target row exists.
    public var when: String?
    public var onDelete: OnDelete
    public var onTruncate: OnTruncate
    /// Where it is in the file, for messages: `tables.public.users[1] (walbridge.yml:14)`.
    public var location: String

    /// A target with the file's defaults for whatever is not given.
    public init(
        into: TableName, key: [String], columns: [ColumnMapping], when: String? = nil,
        onDelete: OnDelete = .delete, onTruncate: OnTruncate = .stop, location: String
    ) {
        self.into = into
        self.key = key
        self.columns = columns
        self.when = when
        self.onDelete = onDelete
        self.onTruncate = onTruncate
        self.location = location
    }
}
