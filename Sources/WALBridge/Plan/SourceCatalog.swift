import PGClient

/// One column of a source table as the source catalog describes it.
public struct SourceColumn: Hashable, Sendable {
    public var name: String
    public var typeOID: UInt32
    /// The type as SQL, e.g. `numeric(10,2)`, for the staging table.
    public var typeSQL: String
    /// Whether values of this type can be stored out of line (TOAST), so that an update may leave them out.
    var mayBeToasted: Bool {
        let plain = ["smallint", "integer", "bigint", "boolean", "real", "double precision", "date", "uuid", "money", "oid", "\"char\""]
        return !plain.contains(typeSQL) && !typeSQL.hasPrefix("timestamp") && !typeSQL.hasPrefix("time")
    }

    /// The expression of a generated column (`GENERATED ALWAYS AS (…) STORED`), which PostgreSQL 15 does not publish.
    public var generated: String? = nil
}

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
    /// A partitioned table (`PARTITION BY`): its changes are published through it only with `publish_via_partition_root`.
    public var partitioned = false
    /// Partitions whose replica identity differs from the partitioned table's: their updates and deletes carry other old values.
    public var partitionsWithOtherIdentity: [String] = []
    /// Columns that identify a row for folding changes: the primary key when there is one, else the identity.
    public var rowKey: [String] {
        replicaIdentity == "f" && !primaryKey.isEmpty ? primaryKey : identityColumns
    }

    /// Whether `rowKey` is a unique key (a primary key or identity index), so rows can be copied in its order.
    public var hasUniqueRowKey: Bool {
        replicaIdentity != "f" || !primaryKey.isEmpty
    }

    /// The column with this name.
    public func column(_ name: String) -> SourceColumn? {
        columns.first { $0.name == name }
    }
}

/// Reads table descriptions from a source database.
enum SourceCatalog {
    /// The description of `table`, or nil when it does not exist.
    static func describe(_ table: TableName, on connection: PGConnection) async throws -> SourceTableInfo? {
        let found = try await connection.query("""
            SELECT c.oid, c.relreplident, c.relkind = 'p' FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
            """, [table.schema, table.name])
        guard let row = found.rows.first, let oid = row[0] else { return nil }
        let columns = try await connection.query("""
            SELECT a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod),
                   CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END
            FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
            """, [oid]).rows.map {
                SourceColumn(name: $0[0] ?? "", typeOID: UInt32($0[1] ?? "") ?? 0, typeSQL: $0[2] ?? "text", generated: $0[3])
            }
        let indexes = try await connection.query("""
            SELECT i.indisprimary, i.indisreplident, a.attname
            FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = $1 AND (i.indisprimary OR i.indisreplident)
            ORDER BY i.indexrelid, k.ord
            """, [oid]).rows
        let primaryKey = indexes.filter { $0[0] == "t" }.compactMap { $0[2] }
        let identityIndex = indexes.filter { $0[1] == "t" }.compactMap { $0[2] }
        let identity = Character(row[1] ?? "d")
        let identityColumns: [String]
        switch identity {
        case "f": identityColumns = columns.map(\.name)
        case "i": identityColumns = identityIndex
        case "n": identityColumns = []
        default: identityColumns = primaryKey
        }
        var info = SourceTableInfo(
            table: table, oid: UInt32(oid) ?? 0, columns: columns, replicaIdentity: identity, primaryKey: primaryKey,
            identityColumns: identityColumns, partitioned: row[2] == "t")
        if info.partitioned {
            // PostgreSQL sends each leaf's own old values; a leaf with another identity than the table's would not match the plan.
            info.partitionsWithOtherIdentity = try await connection.query("""
                SELECT t.relid::regclass::text FROM pg_partition_tree($1::oid) t JOIN pg_class c ON c.oid = t.relid
                WHERE t.isleaf AND c.relreplident <> $2 ORDER BY 1
                """, [oid, String(identity)]).rows.compactMap { $0[0] }
        }
        return info
    }
}
