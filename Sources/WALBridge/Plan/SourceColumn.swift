import PGClient

/// One column of a source table as the source catalog describes it.
public struct SourceColumn: Hashable, Sendable {
    public var name: String
    public var typeOID: UInt32
    /// The type as SQL, e.g. `numeric(10,2)`, for the staging table.
    public var typeSQL: String
    /// Whether values of this type can be stored out of line (TOAST), so that an update may leave them out.
    var mayBeToasted: Bool {
        let plain = [
            "smallint", "integer", "bigint", "boolean", "real", "double precision", "date", "uuid", "money", "oid",
            "\"char\""
        ]
        return !plain.contains(typeSQL) && !typeSQL.hasPrefix("timestamp") && !typeSQL.hasPrefix("time")
    }

    /// The expression of a generated column (`GENERATED ALWAYS AS (…) STORED`), which PostgreSQL 15 does not publish.
    public var generated: String? = nil
}
