import PGClient

/// A source table's columns and replica identity, read from the source catalog.
public struct SourceTableInfo: Hashable, Sendable {
    public var table: TableName
    /// The table's OID, which the stream's Relation messages carry (and which survives a rename).
    public var oid: UInt32 = 0
    public var columns: [SourceColumn]
    /// `d` (default: primary key), `i` (index), `f` (full) or `n` (nothing).
    public var replicaIdentity: Character
    public var primaryKey: [String]
    /// The columns pgoutput sends as the old key: the primary key, the identity index, or every column for FULL.
    public var identityColumns: [String]
    /// A partitioned table (`PARTITION BY`): its changes are published through it only with
    /// `publish_via_partition_root`.
    public var partitioned = false
    /// Partitions whose replica identity differs from the partitioned table's: their updates and deletes carry other
    /// old values.
    public var partitionsWithOtherIdentity: [String] = []
    /// Tables that inherit from this one (`INHERITS`), not partitions: their rows are not this table's.
    public var inheritanceChildren: [String] = []
    /// Columns that identify a row for folding changes: the primary key when there is one, else the identity.
    public var rowKey: [String] {
        replicaIdentity == "f" && !primaryKey.isEmpty ? primaryKey : identityColumns
    }

    /// Whether `rowKey` is a unique key (a primary key or identity index), so rows can be copied in its order.
    public var hasUniqueRowKey: Bool {
        replicaIdentity != "f" || !primaryKey.isEmpty
    }

    /// The table's own rows in a FROM clause: `ONLY` the table, as its publication and native replication see it,
    /// without the rows of tables that inherit from it; a partitioned table with every partition's rows.
    public var ownRows: String {
        partitioned ? table.quoted : "ONLY \(table.quoted)"
    }

    /// The column with this name.
    public func column(_ name: String) -> SourceColumn? {
        columns.first { $0.name == name }
    }
}
