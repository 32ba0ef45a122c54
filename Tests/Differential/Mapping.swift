/// One target column: its name, the SQL expression over the source row, and its SQL type in the target.
struct TargetColumn: Sendable {
    var name: String
    var expression: String
    var type: String
    /// Source column indices the expression reads.
    var reads: [Int]

    /// The name as SQL.
    var sql: String { SQLText.ident(name) }
}

/// One `- into:` entry of the generated configuration.
struct TargetSpec: Sendable {
    /// Index of the source table in the schema.
    var table: Int
    var name: String
    /// `into` names the source table itself (the case's target is then the source database).
    var inPlace: Bool
    var columns: [TargetColumn]
    var key: [String]
    var when: String?
    var onDelete: String?
    var onTruncate: String?
    /// In place: the columns added to the legacy table.
    var added: [TargetColumn] = []
    /// A non-key column the primary key INCLUDEs (not a key column).
    var include: String?
    /// The primary key is DEFERRABLE, which ON CONFLICT refuses: `walbridge check` must say so and give the fix.
    var deferrableKey = false
    /// A column unique in the source (the code) that is also UNIQUE DEFERRABLE INITIALLY DEFERRED here.
    var deferredUnique: String?
    /// Foreign keys to other targets: from its key to the key of another target of the same source row, or from a
    /// column that a legacy foreign key feeds to the key of the referenced table's target.
    var references: [ForeignKeySpec] = []
    /// A table inheriting from this one (`archiveName`), which the run fills with a copy of the target's rows while
    /// the workload runs: the bridge must never update, delete or truncate them.
    var archive = false

    /// `public.name` as SQL.
    var sql: String { SQLText.qualified(name) }
    /// The inheriting table's name, as SQL.
    var archiveSQL: String { SQLText.qualified(name + "_archive") }
    /// Whether deleted or truncated source rows may stay in the target.
    var keepsRemovedRows: Bool { !inPlace && (onDelete == "ignore" || onTruncate == "ignore") }
    /// Positions of the key columns in `columns`.
    var keyPositions: [Int] { key.map { k in columns.firstIndex { $0.name == k }! } }

    /// The primary key constraint's name.
    var keyConstraint: String { SQLText.ident("\(name)_key") }

    /// CREATE TABLE with a primary key on the mapped key (DEFERRABLE where `deferrable`), and its other constraints.
    func ddl(deferrable: Bool) -> String {
        var key = "CONSTRAINT \(keyConstraint) PRIMARY KEY (\(self.key.map(SQLText.ident).joined(separator: ", ")))"
        if let include { key += " INCLUDE (\(SQLText.ident(include)))" }
        if deferrable && deferrableKey { key += " DEFERRABLE" }
        var body = columns.map { "\($0.sql) \($0.type)" } + [key]
        if let deferredUnique { body.append("UNIQUE (\(SQLText.ident(deferredUnique))) DEFERRABLE INITIALLY DEFERRED") }
        return "CREATE TABLE \(sql) (\n    \(body.joined(separator: ",\n    "))\n)"
    }

    /// The statement that makes a DEFERRABLE primary key immediate, as `walbridge check` advises.
    var immediateKey: String {
        "ALTER TABLE \(sql) DROP CONSTRAINT \(keyConstraint), ADD CONSTRAINT \(keyConstraint) "
            + "PRIMARY KEY (\(key.map(SQLText.ident).joined(separator: ", ")))"
            + (include.map { " INCLUDE (\(SQLText.ident($0)))" } ?? "")
    }
}

/// A foreign key between two targets: the child's `columns` reference the parent's `parentColumns`.
struct ForeignKeySpec: Sendable {
    var parent: String
    var columns: [String]
    var parentColumns: [String]
    /// `NO ACTION`, `CASCADE` or `SET NULL`.
    var onDelete: String
    var deferrable: Bool

    /// ALTER TABLE … ADD FOREIGN KEY on `child`.
    func ddl(child: String) -> String {
        let list = columns.map(SQLText.ident).joined(separator: ", ")
        let parentList = parentColumns.map(SQLText.ident).joined(separator: ", ")
        return "ALTER TABLE \(SQLText.qualified(child)) ADD FOREIGN KEY (\(list)) "
            + "REFERENCES \(SQLText.qualified(parent)) (\(parentList)) "
            + "ON DELETE \(onDelete)" + (deferrable ? " DEFERRABLE INITIALLY DEFERRED" : "")
    }
}

/// The generated mapping: every target, and what the workload should stress.
struct Mapping: Sendable {
    var targets: [TargetSpec]
    /// Per source table: columns that `when` predicates and mixed expressions read.
    var hot: [[Int]]
    /// Per source table: SET clauses that flip a `when` predicate for the rows an UPDATE touches.
    var flips: [[String]]

    /// The heartbeat table the harness commits to after the workload (not part of the generated mapping under test).
    static let heartbeat = "difftest_heartbeat"
    static let heartbeatSourceDDL =
        "CREATE TABLE public.\(heartbeat) (id integer PRIMARY KEY, n integer NOT NULL); "
        + "INSERT INTO public.\(heartbeat) VALUES (1, 0)"
    static let heartbeatTargetDDL = "CREATE TABLE public.\(heartbeat)_v2 (id integer PRIMARY KEY, n integer)"

    /// Whether one target is the source table itself (so the whole case writes into the source database).
    var inPlace: Bool { targets.contains { $0.inPlace } }

    /// ALTER TABLE … ADD COLUMN for the in-place targets' new columns.
    func sourceDDL(_ schema: Schema) -> [String] {
        targets.filter(\.inPlace).flatMap { target in
            target.added.map { "ALTER TABLE \(schema.tables[target.table].sql) ADD COLUMN \($0.sql) \($0.type)" }
        }
    }

    /// The target tables (in the target database, or in the source database for an in-place case), then the foreign
    /// keys between them; with `deferrable`, the keys drawn DEFERRABLE are (check must refuse them).
    func targetDDL(deferrable: Bool) -> [String] {
        let tables = targets.filter { !$0.inPlace }
        return tables.map { $0.ddl(deferrable: deferrable) }
            + tables.filter(\.archive).map { "CREATE TABLE \($0.archiveSQL) () INHERITS (\($0.sql))" }
            + tables.flatMap { target in target.references.map { $0.ddl(child: target.name) } }
    }

    /// The configuration file.
    func yaml(_ schema: Schema, source: String, target: String, slot: String, heartbeat: Bool = false) -> String {
        var lines = [
            "# generated by the differential test",
            "source: \(SQLText.yaml(source))",
            "target: \(SQLText.yaml(target))",
            "slot: \(slot)",
            "publication: \(slot)",
            "tables:",
        ]
        for (index, table) in schema.tables.enumerated() {
            let entries = targets.filter { $0.table == index }
            guard !entries.isEmpty else { continue }
            lines.append("  \(SQLText.yaml(table.sql)):")
            for entry in entries {
                lines.append("    - into: \(SQLText.yaml(entry.inPlace ? table.sql : entry.sql))")
                lines.append(
                    "      key: [\(entry.key.map { SQLText.yaml(SQLText.ident($0)) }.joined(separator: ", "))]")
                if let when = entry.when { lines.append("      when: \(SQLText.yaml(when))") }
                if let onDelete = entry.onDelete { lines.append("      on_delete: \(onDelete)") }
                if let onTruncate = entry.onTruncate { lines.append("      on_truncate: \(onTruncate)") }
                lines.append("      columns:")
                for column in entry.columns {
                    lines.append("        \(SQLText.yaml(column.sql)): \(SQLText.yaml(column.expression))")
                }
            }
        }
        if heartbeat {
            lines += [
                "  # the test's heartbeat: one commit after the workload, so the checkpoint passes "
                    + "the source's last LSN",
                "  public.\(Self.heartbeat):",
                "    - into: public.\(Self.heartbeat)_v2",
                "      key: [id]",
                "      columns: {id: id, n: n}",
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
