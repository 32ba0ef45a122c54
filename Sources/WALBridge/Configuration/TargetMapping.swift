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
    /// `never`: only rows the target holds already are updated (another entry, or the application, inserts them).
    public var insert: InsertMode
    /// The columns outside the key: what this entry writes into a row.
    public var nonKeyColumns: [ColumnMapping] { columns.filter { !key.contains($0.column) } }
    /// Where it is in the file, for messages: `tables.public.users[1] (walbridge.yml:14)`.
    public var location: String

    /// A target with the file's defaults for whatever is not given.
    public init(
        into: TableName, key: [String], columns: [ColumnMapping], when: String? = nil,
        onDelete: OnDelete = .delete, onTruncate: OnTruncate = .stop, insert: InsertMode = .always, location: String
    ) {
        self.into = into
        self.key = key
        self.columns = columns
        self.when = when
        self.onDelete = onDelete
        self.onTruncate = onTruncate
        self.insert = insert
        self.location = location
    }
}
