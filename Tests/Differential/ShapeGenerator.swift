import Foundation
import TestSupport

/// Shapes drawn on top of a generated case from a stream of their own, so that every earlier seed's case stays as it
/// was: tables that inherit from a legacy table, target columns of another type than their expression, primary keys
/// with INCLUDE columns or DEFERRABLE (which check must refuse), DEFERRABLE uniques, and foreign keys between the
/// targets of one source table.
struct ShapeGenerator {
    /// The families of shapes this generator draws.
    enum Family: String, CaseIterable {
        case inherit, identity, retype, include, deferrable, unique, splitKey = "split-fk", legacyKey = "legacy-fk"
        case truncateMany = "truncate-many"
        case archive

        /// The families `WALBRIDGE_DIFF_SHAPES` names (comma-separated), every one without it: a subset shows which
        /// shape finds a failure.
        static var enabled: Set<Family> {
            guard let names = ProcessInfo.processInfo.environment["WALBRIDGE_DIFF_SHAPES"] else { return Set(allCases) }
            return Set(
                names.split(separator: ",").compactMap { Family(rawValue: $0.trimmingCharacters(in: .whitespaces)) })
        }
    }

    var rng: SplitMix64
    let families = Family.enabled

    /// The shapes for `seed`'s case.
    init(seed: UInt64) {
        rng = SplitMix64.derived(seed, 700)
    }

    /// Whether `family` is drawn: the draw of `chance` is made first, so leaving a family out changes the others
    /// little.
    private mutating func draw(_ family: Family, _ chance: Double) -> Bool {
        rng.chance(chance) && families.contains(family)
    }

    /// Adds the shapes to the schema and the mapping.
    mutating func apply(_ schema: inout Schema, _ mapping: inout Mapping) {
        let inPlace = Set(mapping.targets.filter(\.inPlace).map(\.table))
        for index in schema.tables.indices where schema.tables[index].partitioning == nil && !inPlace.contains(index) {
            // In place, an UPDATE of the legacy table would reach the inheriting table's rows too: not there.
            if draw(.inherit, 0.2) { schema.tables[index].inheritingChild = "\(schema.tables[index].name)_inheritor" }
            // A replica identity index with a TOASTed member beside the key, where no primary key is the row key.
            if schema.tables[index].identity == .index && !schema.tables[index].hasPrimaryKey && draw(.identity, 0.5) {
                schema.tables[index].columns.append(Column(name: "ident_blob", type: .text, role: .toastedIdentity))
            }
        }
        for index in mapping.targets.indices where !mapping.targets[index].inPlace {
            retype(&mapping.targets[index], schema)
            constrain(&mapping.targets[index], schema)
        }
        relate(&mapping.targets)
        refer(&schema, &mapping)
        // A foreign key cannot reference a DEFERRABLE key.
        let referenced = Set(mapping.targets.flatMap { $0.references.map(\.parent) })
        for index in mapping.targets.indices where referenced.contains(mapping.targets[index].name) {
            mapping.targets[index].deferrableKey = false
        }
        // A table inheriting from a target, filled with a copy of its rows mid-run: nothing may touch them (drawn
        // last, so the other shapes of a seed stay as they were).
        for index in mapping.targets.indices where !mapping.targets[index].inPlace {
            mapping.targets[index].archive = draw(.archive, 0.25)
        }
    }

    /// A legacy foreign key from one table to another's one-column primary key (ON DELETE CASCADE), carried into a
    /// foreign key between their targets: the parent's target keyed on that key, its `when` dropped, the child's target
    /// made to remove the rows the source removes. The child is the earlier table in the file where it can be (a YAML
    /// mapping's order means nothing to the backfill). The workload moves children between parents, often ones the
    /// backfill has not copied yet.
    private mutating func refer(_ schema: inout Schema, _ mapping: inout Mapping) {
        guard schema.tables.count >= 2, draw(.legacyKey, 0.6) else { return }
        let inPlace = Set(mapping.targets.filter(\.inPlace).map(\.table))
        let tables = schema.tables.indices.filter { !inPlace.contains($0) }
        for parent in rng.shuffled(tables) {
            let table = schema.tables[parent]
            // A primary key, or the replica identity's unique index on the key alone, is what a foreign key references.
            let unique = table.hasPrimaryKey || !table.columns.contains { $0.role == .toastedIdentity }
            guard unique, table.key.count == 1 else { continue }
            let keySQL = table.columns[table.key[0]].sql
            let parentTargets = mapping.targets.indices.filter { index in
                let target = mapping.targets[index]
                guard target.table == parent, !target.inPlace, target.key.count == 1 else { return false }
                let expression = target.columns[target.keyPositions[0]].expression
                return expression == keySQL || expression == "\(keySQL)::text"
            }
            guard let parentTarget = parentTargets.first else { continue }
            for child in tables where child != parent && schema.tables[child].reference == nil {
                guard let childTarget = mapping.targets.indices.first(where: {
                    mapping.targets[$0].table == child && !mapping.targets[$0].inPlace
                }) else { continue }
                // Every row the child's target holds has its parent in the parent's target.
                mapping.targets[parentTarget].when = nil
                if mapping.targets[childTarget].onDelete == "ignore" {
                    mapping.targets[childTarget].onDelete = "delete"
                }
                mapping.targets[childTarget].onTruncate = "truncate"
                let column = Column(name: "parent_ref", type: table.columns[table.key[0]].type, role: .reference)
                schema.tables[child].columns.append(column)
                let position = schema.tables[child].columns.count - 1
                schema.tables[child].reference = Reference(column: position, parent: parent)
                let key = mapping.targets[parentTarget].columns[mapping.targets[parentTarget].keyPositions[0]]
                mapping.targets[childTarget].columns.append(
                    TargetColumn(name: "parent_ref", expression: column.sql, type: key.type, reads: [position]))
                mapping.targets[childTarget].references.append(ForeignKeySpec(
                    parent: mapping.targets[parentTarget].name, columns: ["parent_ref"], parentColumns: [key.name],
                    onDelete: rng.pick(["NO ACTION", "CASCADE", "SET NULL"]), deferrable: rng.chance(0.3)))
                return
            }
        }
    }

    /// A column that maps a source column as it is, into a `text` column: the target assigns it (as PostgreSQL would),
    /// and keys compare as text.
    private mutating func retype(_ target: inout TargetSpec, _ schema: Schema) {
        let table = schema.tables[target.table]
        let castable: Set<SQLType> = [.int, .bigint, .numeric, .bool, .uuid, .date, .domainInt, .inet]
        for index in target.columns.indices {
            let column = target.columns[index]
            guard column.reads.count == 1, column.expression == table.columns[column.reads[0]].sql,
                  castable.contains(table.columns[column.reads[0]].type), draw(.retype, 0.25) else { continue }
            target.columns[index].type = "text"
        }
    }

    /// A primary key that INCLUDEs a column, a DEFERRABLE one (check must refuse it with the fix), a DEFERRABLE unique
    /// on the source's unique code.
    private mutating func constrain(_ target: inout TargetSpec, _ schema: Schema) {
        let table = schema.tables[target.table]
        let nonKey = target.columns.map(\.name).filter { !target.key.contains($0) }
        if !nonKey.isEmpty && draw(.include, 0.15) { target.include = rng.pick(nonKey) }
        target.deferrableKey = draw(.deferrable, 0.08)
        if let code = table.code, !target.keepsRemovedRows, draw(.unique, 0.5),
            let column = target.columns.first(where: {
                $0.expression == table.columns[code].sql && !target.key.contains($0.name)
            }) {
            target.deferredUnique = column.name
        }
    }

    /// A foreign key from a source table's second target to its first, keyed alike: every row the child holds, the
    /// parent holds (no `when` on the parent, which keeps removed rows wherever the child does).
    private mutating func relate(_ targets: inout [TargetSpec]) {
        let tables = Set(targets.map(\.table)).sorted()
        for table in tables {
            let mine = targets.indices.filter { targets[$0].table == table && !targets[$0].inPlace }
            guard mine.count >= 2, draw(.splitKey, 0.5) else { continue }
            let parent = targets[mine[0]]
            var child = targets[mine[1]]
            guard parent.when == nil,
                  child.onDelete != "ignore" || parent.onDelete == "ignore",
                  child.onTruncate != "ignore" || parent.onTruncate == "ignore"
            else { continue }
            let keyColumns = parent.keyPositions.map { parent.columns[$0] }
            child.columns =
                keyColumns + child.columns.filter { !child.key.contains($0.name) && !parent.key.contains($0.name) }
            child.key = parent.key
            if let include = child.include,
                !child.columns.contains(where: { $0.name == include }) || child.key.contains(include) {
                child.include = nil
            }
            if let unique = child.deferredUnique,
                !child.columns.contains(where: { $0.name == unique }) || child.key.contains(unique) {
                child.deferredUnique = nil
            }
            child.references.append(ForeignKeySpec(
                    parent: parent.name, columns: parent.key, parentColumns: parent.key,
                    onDelete: rng.pick(["NO ACTION", "CASCADE"]),
                deferrable: rng.chance(0.3)))
            targets[mine[1]] = child
        }
    }
}
