/// One configuration entry as verify reads it: the source table and how it feeds its target.
struct VerifyEntry: Sendable {
    let table: TableName
    let mapping: TargetMapping

    /// The entries of `configuration`, one list per target table in file order, the entry that inserts its rows first.
    static func byTarget(_ configuration: Configuration) -> [[VerifyEntry]] {
        var order: [TableName] = []
        var entries: [TableName: [VerifyEntry]] = [:]
        for table in configuration.tables {
            for mapping in table.targets {
                if entries[mapping.into] == nil { order.append(mapping.into) }
                entries[mapping.into, default: []].append(VerifyEntry(table: table.source, mapping: mapping))
            }
        }
        return order.compactMap { entries[$0] }.map { list in
            list.filter { $0.mapping.insert == .always } + list.filter { $0.mapping.insert == .never }
        }
    }

    /// The target as one mapping: the inserting entry's key and columns, then every other entry's non-key columns.
    static func combined(_ entries: [VerifyEntry]) -> TargetMapping {
        var mapping = entries[0].mapping
        mapping.columns += entries.dropFirst().flatMap(\.mapping.nonKeyColumns)
        return mapping
    }
}
