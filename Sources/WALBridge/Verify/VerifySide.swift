import PGClient

/// One side of a target's comparison as SQL: the mapping evaluated over the source, or the target table as it is.
/// Each row becomes its key and its row as text (`ROW(…)::text` of the columns' text), so both sides hash alike.
struct VerifySide: Sendable {
    /// Buckets the keys hash into; a bucket is the unit of the first comparison.
    static let buckets = 4096

    /// `SELECT k, r, c0, c1, … FROM …`: key text, row text, and each column's text.
    let rows: String

    /// The side over the source: every column's expression, cast to the target column's type. A target several
    /// entries feed (`combined` holds all their columns) is the first entry's rows, which insert it, each LEFT JOINed
    /// on
    /// the key to every other entry's row: where one has none, its columns are NULL, as `on_delete: clear` leaves them.
    /// `rows` names each source table's own rows in a FROM clause (`SourceTableInfo.ownRows`).
    static func source(
        _ entries: [SharedTarget.Entry], combined: TargetMapping, types: [String: String],
        rows ownRows: [TableName: String]
    ) -> VerifySide {
        let q = SQLQuoting.identifier
        var from = ""
        var place: [String: String] = [:]
        for (index, entry) in entries.enumerated() {
            let mapping = entry.mapping
            let alias = "g\(index)"
            let select = mapping.columns.map {
                "((\($0.expression))::\(types[$0.column] ?? "text")) AS \(q($0.column))"
            }
            let rows =
                "(SELECT \(select.joined(separator: ", ")) FROM \(ownRows[entry.table] ?? entry.table.quoted)"
                + "\(mapping.when.map { " WHERE (\($0))" } ?? "")) AS \(alias)"
            if index == 0 {
                from = rows
                for column in mapping.columns { place[column.column] = "\(alias).\(q(column.column))" }
            } else {
                from +=
                    " LEFT JOIN \(rows) ON "
                    + combined.key.map { "g0.\(q($0)) = \(alias).\(q($0))" }.joined(separator: " AND ")
                for column in mapping.nonKeyColumns { place[column.column] = "\(alias).\(q(column.column))" }
            }
        }
        return VerifySide(
            combined, columns: combined.columns.map { "(\(place[$0.column] ?? "NULL"))::text" }, from: from)
    }

    /// The side over the target table's `rows` (where it is the source table itself, only the rows `when` selects).
    static func target(_ mapping: TargetMapping, inPlace: Bool, rows: String) -> VerifySide {
        let columns = mapping.columns.map { "(\(SQLQuoting.identifier($0.column)))::text" }
        let when = inPlace ? mapping.when.map { " WHERE (\($0))" } ?? "" : ""
        return VerifySide(mapping, columns: columns, from: rows + when)
    }

    private init(_ mapping: TargetMapping, columns: [String], from: String) {
        let key = mapping.key.compactMap { key in mapping.columns.firstIndex { $0.column == key }.map { columns[$0] } }
        let named = columns.enumerated().map { "\($1) AS c\($0)" }.joined(separator: ", ")
        rows = """
            SELECT ROW(\(key.joined(separator: ", ")))::text AS k, \
            ROW(\(columns.joined(separator: ", ")))::text AS r, \(named) \
            FROM \(from)
            """
    }

    /// Per bucket of keys: the bucket, its row count, and the XOR of its rows' hashes.
    var summary: String {
        "SELECT \(Self.bucket) AS b, count(*), bit_xor(hashtextextended(r, 0)) FROM (\(rows)) s GROUP BY 1"
    }

    /// Key and row hash of every row in the buckets of `$1` (an int array).
    var hashesInBuckets: String {
        "SELECT k, hashtextextended(r, 0) FROM (\(rows)) s WHERE \(Self.bucket) = ANY($1::int[])"
    }

    /// Key and column texts of the rows whose keys are in `$1` (a text array).
    func columns(count: Int) -> String {
        "SELECT k, \((0..<count).map { "c\($0)" }.joined(separator: ", ")) FROM (\(rows)) s WHERE k = ANY($1::text[])"
    }

    /// `$1` random keys.
    var sample: String {
        "SELECT k FROM (\(rows)) s ORDER BY random() LIMIT $1::bigint"
    }

    private static let bucket = "mod(hashtext(k)::bigint + 2147483648, \(buckets))::int"

    /// A PostgreSQL array literal of `values`, to be bound as one parameter.
    static func arrayLiteral(_ values: some Sequence<String>) -> String {
        "{" + values.map { "\"" + $0.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}"
    }
}
