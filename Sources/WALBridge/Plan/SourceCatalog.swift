import PGClient

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
            SourceColumn(
                name: $0[0] ?? "", typeOID: UInt32($0[1] ?? "") ?? 0, typeSQL: $0[2] ?? "text", generated: $0[3])
            }
        // Only the first indnkeyatts columns are the key; an index's INCLUDE columns follow them in indkey.
        let indexes = try await connection.query("""
            SELECT i.indisprimary, i.indisreplident, a.attname
            FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = $1 AND (i.indisprimary OR i.indisreplident) AND k.ord <= i.indnkeyatts
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
            // PostgreSQL sends each leaf's own old values; a leaf with another identity than the table's would not
            // match the plan.
            info.partitionsWithOtherIdentity = try await connection.query("""
                SELECT t.relid::regclass::text FROM pg_partition_tree($1::oid) t JOIN pg_class c ON c.oid = t.relid
                WHERE t.isleaf AND c.relreplident <> $2 ORDER BY 1
                """, [oid, String(identity)]).rows.compactMap { $0[0] }
        }
        info.inheritanceChildren = try await connection.query("""
            SELECT c.oid::regclass::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = $1 AND NOT c.relispartition ORDER BY 1
            """, [oid]).rows.compactMap { $0[0] }
        return info
    }
}
