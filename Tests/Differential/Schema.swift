/// A column type the generator draws from.
enum SQLType: String, CaseIterable, Sendable {
    case int, bigint, numeric, text, varchar, char6, bool, uuid, inet, timestamptz, date, jsonb, bytea, intArray,
        textArray
    case enumType, domainText, domainInt

    /// The type as SQL, with the case's own enum and domain names.
    func sql(_ names: TypeNames) -> String {
        switch self {
        case .int: "integer"
        case .bigint: "bigint"
        case .numeric: "numeric(12,2)"
        case .text: "text"
        case .varchar: "varchar(20)"
        case .char6: "char(6)"
        case .bool: "boolean"
        case .uuid: "uuid"
        case .inet: "inet"
        case .timestamptz: "timestamptz"
        case .date: "date"
        case .jsonb: "jsonb"
        case .bytea: "bytea"
        case .intArray: "integer[]"
        case .textArray: "text[]"
        case .enumType: names.enumName
        case .domainText: names.domainText
        case .domainInt: names.domainInt
        }
    }

    /// Types that can be a key on their own (and carry a composite key's uniqueness).
    static let mainKeyTypes: [SQLType] = [
        .int, .bigint, .numeric, .text, .varchar, .char6, .uuid, .inet, .date, .timestamptz
    ]
    /// Types that may be part of a composite key.
    static let keyTypes: [SQLType] = mainKeyTypes + [.bool, .enumType]

    /// Text, varchar, char(n) and the text domain.
    var isTextLike: Bool { [.text, .varchar, .char6, .domainText].contains(self) }
    /// Integers, numeric and the integer domain.
    var isNumberLike: Bool { [.int, .bigint, .numeric, .domainInt].contains(self) }
    /// Types whose key values grow with the key number, so RANGE partitions can split them.
    var isRangeable: Bool { [.int, .bigint, .numeric, .date, .timestamptz].contains(self) }
}

/// The names of the case's enum type and domains (as SQL), and the enum's labels.
struct TypeNames: Sendable {
    var enumName: String
    var labels: [String]
    var domainText: String
    var domainInt: String

    /// CREATE TYPE / CREATE DOMAIN statements, run in the source and in the target database.
    var ddl: [String] {
        [
            "CREATE TYPE \(enumName) AS ENUM (\(labels.map(SQLText.literal).joined(separator: ", ")))",
            "CREATE DOMAIN \(domainText) AS text CHECK (VALUE <> 'forbidden')",
            "CREATE DOMAIN \(domainInt) AS integer CHECK (VALUE >= 0)",
        ]
    }
}

/// What a column is for in its table.
enum ColumnRole: Sendable, Equatable {
    /// Part of the row key (primary key or replica identity index).
    case key
    /// A unique `code` column of a REPLICA IDENTITY FULL table, which a target may be keyed on.
    case code
    /// Any other column.
    case plain
    /// A nullable reference to another legacy table's key (`Reference`).
    case reference
    /// A member of the replica identity index beside the key, 2.3 kB stored out of line, never updated: an update of
    /// another column sends it in the old key only.
    case toastedIdentity
}

/// One column of a legacy table.
struct Column: Sendable {
    var name: String
    var type: SQLType
    var role: ColumnRole
    /// A text column with STORAGE EXTERNAL that gets 3–20 kB values, so they live in TOAST.
    var toast = false

    /// The name as SQL.
    var sql: String { SQLText.ident(name) }
}

/// How the table's replica identity is set.
enum Identity: String, Sendable {
    case primaryKey = "DEFAULT"
    case full = "FULL"
    case index = "USING INDEX"
}

/// One partition: its table name and its FOR VALUES clause.
struct Partition: Sendable {
    var name: String
    var bound: String
}

/// A table's partitioning: the kind, the key column, the partitions made up front and maybe one made during the
/// workload.
struct Partitioning: Sendable {
    enum Kind: String, Sendable { case range = "RANGE", list = "LIST", hash = "HASH" }
    var kind: Kind
    var column: Int
    var partitions: [Partition]
    var late: Partition?
}

/// One legacy (source) table.
struct SourceTable: Sendable {
    /// 1-based, for side tables and messages.
    var number: Int
    var name: String
    var columns: [Column]
    /// Column indices of the row key, in index order.
    var key: [Int]
    /// The key column whose value carries the key's uniqueness.
    var main: Int
    var boolComponent: Int?
    var enumComponent: Int?
    var identity: Identity
    var hasPrimaryKey: Bool
    var code: Int?
    var partitioning: Partitioning?
    /// Whether the workload may TRUNCATE it.
    var allowTruncate: Bool
    var initialRows: Int
    /// A table that inherits from this one (`INHERITS`), with rows of its own that no mapping of this one carries.
    var inheritingChild: String?
    /// A foreign key of this table to another legacy table's one-column primary key.
    var reference: Reference?

    /// `public.name` as SQL.
    var sql: String { SQLText.qualified(name) }
    /// The table's own rows in a FROM clause, as walbridge maps them: without an inheriting table's rows.
    var ownRows: String { partitioning == nil ? "ONLY \(sql)" : sql }
    /// The side table the delete and truncate triggers fill.
    var goneTable: String { "__difftest_gone_\(number)" }
    /// Columns that are not part of the key and not the code.
    var plainColumns: [Int] { columns.indices.filter { columns[$0].role == .plain } }
    /// The TOASTed columns.
    var toastColumns: [Int] { columns.indices.filter { columns[$0].toast } }
    /// The replica identity's columns, which a target key may use.
    var identityColumns: [Int] { identity == .full ? Array(columns.indices) : key }

    /// CREATE TABLE, storage, partitions and replica identity.
    func ddl(_ names: TypeNames) -> [String] {
        var body = columns.map { column -> String in
            var text = "\(column.sql) \(column.type.sql(names))"
            if column.role != .plain && column.role != .reference { text += " NOT NULL" }
            if column.role == .code { text += " UNIQUE" }
            return text
        }
        if hasPrimaryKey { body.append("PRIMARY KEY (\(key.map { columns[$0].sql }.joined(separator: ", ")))") }
        var create = "CREATE TABLE \(sql) (\n    \(body.joined(separator: ",\n    "))\n)"
        if let partitioning {
            create += " PARTITION BY \(partitioning.kind.rawValue) (\(columns[partitioning.column].sql))"
        }
        var statements = [create]
        for column in toastColumns + columns.indices.filter({ columns[$0].role == .toastedIdentity }) {
            statements.append("ALTER TABLE \(sql) ALTER COLUMN \(columns[column].sql) SET STORAGE EXTERNAL")
        }
        for partition in partitioning?.partitions ?? [] { statements += partitionDDL(partition) }
        if let child = inheritingChild {
            statements.append("CREATE TABLE \(SQLText.qualified(child)) (difftest_extra integer) INHERITS (\(sql))")
        }
        switch identity {
        case .primaryKey: break
        case .full: statements.append("ALTER TABLE \(sql) REPLICA IDENTITY FULL")
        case .index:
            let index = SQLText.ident("\(name)_ident")
            let members = key + columns.indices.filter { columns[$0].role == .toastedIdentity }
            statements.append(
                "CREATE UNIQUE INDEX \(index) ON \(sql) "
                    + "(\(members.map { columns[$0].sql }.joined(separator: ", ")))")
            statements.append("ALTER TABLE \(sql) REPLICA IDENTITY USING INDEX \(index)")
        }
        return statements
    }

    /// One partition (replica identity FULL does not pass from the parent to its partitions).
    func partitionDDL(_ partition: Partition) -> [String] {
        var statements = ["CREATE TABLE \(SQLText.qualified(partition.name)) PARTITION OF \(sql) \(partition.bound)"]
        if identity == .full {
            statements.append("ALTER TABLE \(SQLText.qualified(partition.name)) REPLICA IDENTITY FULL")
        }
        return statements
    }

    /// The side table and the AFTER DELETE / BEFORE TRUNCATE triggers that keep every row the workload removes.
    var historyDDL: [String] {
        let gone = goneTable
        return [
            "CREATE TABLE \(gone) (LIKE \(sql), difftest_how text)",
            "CREATE FUNCTION \(gone)_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO \(gone) "
                + "VALUES (OLD.*, 'delete'); RETURN NULL; END $$",
            "CREATE TRIGGER \(gone)_d AFTER DELETE ON \(sql) FOR EACH ROW EXECUTE FUNCTION \(gone)_row()",
            "CREATE FUNCTION \(gone)_all() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO \(gone) SELECT *, "
                + "'truncate' FROM \(sql); RETURN NULL; END $$",
            "CREATE TRIGGER \(gone)_t BEFORE TRUNCATE ON \(sql) FOR EACH STATEMENT EXECUTE FUNCTION \(gone)_all()",
        ]
    }

    /// One line for the case summary.
    var summary: String {
        var parts = [
            "\(sql): "
                + "key (\(key.map { "\(columns[$0].name) \(columns[$0].type.rawValue)" }.joined(separator: ", "))), "
                + "identity \(identity.rawValue)"
        ]
        if !hasPrimaryKey { parts.append("no PK") }
        if code != nil { parts.append("unique code") }
        if let partitioning {
            parts.append(
                "partitioned by \(partitioning.kind.rawValue) "
                    + "on \(columns[partitioning.column].name)\(partitioning.late != nil ? " + late partition" : "")"
            )
        }
        if !toastColumns.isEmpty {
            parts.append("TOAST \(toastColumns.map { columns[$0].name }.joined(separator: ", "))")
        }
        if let child = inheritingChild { parts.append("inherited by \(child)") }
        if let member = columns.first(where: { $0.role == .toastedIdentity }) {
            parts.append("TOASTed identity member \(member.name)")
        }
        if let reference { parts.append("\(columns[reference.column].name) references table \(reference.parent + 1)") }
        parts.append("\(initialRows) initial rows")
        return parts.joined(separator: ", ")
    }
}

/// A legacy foreign key: `column` (role `.reference`) references the key of table `parent`, its rows deleted with it.
struct Reference: Sendable {
    var column: Int
    var parent: Int

    /// A parent key for key number `g`'s row: one of the newest parents (so, during a backfill, often one not copied
    /// yet), or NULL when there are too few.
    func pick(_ schema: Schema, offset: Int) -> String {
        let parent = schema.tables[self.parent]
        let key = parent.columns[parent.key[0]].sql
        return "(SELECT \(key) FROM \(parent.ownRows) ORDER BY \(key) DESC LIMIT 1 OFFSET \(offset))"
    }
}

/// All legacy tables of a case and its types.
struct Schema: Sendable {
    var names: TypeNames
    var tables: [SourceTable]

    /// The source database's DDL: types, then tables.
    var ddl: [String] {
        names.ddl + tables.flatMap { $0.ddl(names) } + tables.compactMap { table in
            table.reference.map { reference in
                let parent = tables[reference.parent]
                    return "ALTER TABLE \(table.sql) ADD FOREIGN KEY (\(table.columns[reference.column].sql)) "
                        + "REFERENCES \(parent.sql) (\(parent.columns[parent.key[0]].sql)) "
                    + "ON DELETE CASCADE"
            }
        }
    }
}
