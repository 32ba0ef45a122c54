/// One target table that several source tables feed, each entry its own group of columns under the same key.
struct SharedTarget {
    /// One source table's entry for the target.
    struct Entry {
        /// The source table's index in the configuration (and the plan).
        let source: Int
        let table: TableName
        let mapping: TargetMapping
    }

    let into: TableName
    /// In file order.
    let entries: [Entry]

    /// The entry that inserts the rows (`insert: always`), if any; the others only update rows it wrote.
    var inserting: Entry? { entries.first { $0.mapping.insert == .always } }

    /// The entries, the one that inserts the rows first.
    var insertingFirst: [Entry] {
        entries.filter { $0.mapping.insert == .always } + entries.filter { $0.mapping.insert == .never }
    }

    /// The target as one mapping: the inserting entry's key and columns, then every other entry's non-key columns.
    var combined: TargetMapping {
        let ordered = insertingFirst
        var mapping = ordered[0].mapping
        mapping.columns += ordered.dropFirst().flatMap(\.mapping.nonKeyColumns)
        return mapping
    }

    /// The targets named by more than one source table, in file order.
    static func all(in configuration: Configuration) -> [SharedTarget] {
        byTarget(in: configuration).filter { $0.entries.count > 1 }
    }

    /// Every target table with the entries that feed it, in file order.
    static func byTarget(in configuration: Configuration) -> [SharedTarget] {
        var order: [TableName] = []
        var entries: [TableName: [Entry]] = [:]
        for (index, table) in configuration.tables.enumerated() {
            for mapping in table.targets {
                if entries[mapping.into] == nil { order.append(mapping.into) }
                entries[mapping.into, default: []].append(Entry(source: index, table: table.source, mapping: mapping))
            }
        }
        return order.compactMap { into in entries[into].map { SharedTarget(into: into, entries: $0) } }
    }

    /// What keeps these entries from sharing the target: each problem at the later entry, naming the earlier one.
    /// `rowKeys` are each source table's unique keys that identify its rows (row key, primary key).
    func problems(sameDatabase: Bool, rowKeys: [TableName: [[String]]]) -> [PlanProblem] {
        var problems: [PlanProblem] = []
        let first = entries[0]
        for entry in entries {
            let mapping = entry.mapping
            if mapping.insert == .always, let when = mapping.when {
                problems.append(
                    PlanProblem(
                        location: mapping.location,
                        message: "\(entry.table) inserts the rows of \(into), which other source tables fill too, "
                            + "so its when (\(when)) turning false would delete their columns with the row, "
                            + "and they would not come back when it holds again; drop the when (or map this "
                            + "entry to a table of its own)"))
            }
            if mapping.insert == .never, let keys = rowKeys[entry.table] {
                let keyColumns = mapping.key.map { key in
                    mapping.columns.first { $0.column == key }.flatMap { try? SQLIdentifier.name($0.expression) }
                }
                let named = Set(keyColumns.compactMap { $0 })
                if keyColumns.contains(nil) || !keys.contains(where: { Set($0) == named }) {
                    let shown = keys.map { "(\($0.joined(separator: ", ")))" }.joined(separator: " or ")
                    problems.append(
                        PlanProblem(
                            location: mapping.location,
                            message: "\(entry.table) fills rows of \(into) "
                                + "by key [\(mapping.key.joined(separator: ", "))], "
                                + "whose expressions are not exactly a unique key of \(entry.table) "
                                + "(\(shown.isEmpty ? "it has none" : shown)); two of its rows could "
                                + "then write one target row, and deleting either would clear it. "
                                + "Map the key columns straight from \(entry.table)'s primary key (or a unique index "
                                + "with REPLICA IDENTITY USING INDEX)"))
                }
            }
            if sameDatabase && mapping.into == entry.table {
                problems.append(
                    PlanProblem(
                        location: mapping.location,
                        message: "\(into) is \(entry.table) itself (in place), which other source tables cannot feed "
                            + "too; map the other tables into another table, or drop this entry"))
            }
            if mapping.insert == .never && mapping.onDelete != .clear {
                let inserter = inserting.map { " (\($0.table) inserts them, \($0.mapping.location))" } ?? ""
                problems.append(
                    PlanProblem(
                        location: mapping.location,
                        message: """
                            \(entry.table) updates rows of \(into) that it does not insert\(inserter), so on_delete: \
                            \(mapping.onDelete) would \(mapping.onDelete == .delete
                                ? "delete the whole row, other entries' columns included"
                                : "keep values its source no longer holds, which verify cannot tell from differences"
                            ); use on_delete: clear
                            """
                    ))
            }
        }
        for entry in entries.dropFirst() {
            let mapping = entry.mapping
            let other = "\(first.table)'s entry (\(first.mapping.location))"
            if Set(mapping.key) != Set(first.mapping.key) {
                problems.append(
                    PlanProblem(
                        location: mapping.location,
                        message: "\(into) is also fed by \(other) "
                            + "with key [\(first.mapping.key.joined(separator: ", "))], "
                            + "and this entry's key is [\(mapping.key.joined(separator: ", "))]; "
                            + "entries feeding one target must name the same key columns"))
            }
        }
        for (index, entry) in entries.enumerated() {
            for earlier in entries[..<index] {
                let mine = Set(entry.mapping.nonKeyColumns.map(\.column)).union(entry.mapping.key)
                let shared = earlier.mapping.nonKeyColumns.map(\.column).filter { mine.contains($0) }
                if !shared.isEmpty {
                    problems.append(
                        PlanProblem(
                            location: entry.mapping.location,
                            message: "\(into) column\(shared.count == 1 ? "" : "s") "
                                + "\(shared.map(SQLIdentifier.display).joined(separator: ", ")) "
                                + "\(shared.count == 1 ? "is" : "are") also written by \(earlier.table)'s entry "
                                + "(\(earlier.mapping.location)); each non-key column of a shared target belongs to "
                                + "one entry: remove it from one of them"))
                }
                if entry.mapping.insert == .always && earlier.mapping.insert == .always {
                    problems.append(
                        PlanProblem(
                            location: entry.mapping.location,
                            message: "\(into) is also inserted into by \(earlier.table)'s entry "
                                + "(\(earlier.mapping.location)); at most one entry of a shared target inserts rows: "
                                + "add insert: never (and on_delete: clear) to the others"))
                }
            }
        }
        return problems
    }
}
