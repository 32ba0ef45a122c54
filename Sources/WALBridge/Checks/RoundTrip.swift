import PGClient

/// The proof that `reverse:` brings back what `tables:` carried forward: every legacy table and column has a reverse
/// source, every reverse expression compiles over its new table's columns, and sampled legacy rows, carried forward and
/// back on the source, come back column for column as they were.
public enum RoundTrip {
    /// Legacy rows sampled per table unless told otherwise.
    public static let defaultSample = 1000

    /// Proves the pair on `sample` rows of each legacy table; throws only when a database cannot be reached.
    public static func prove(
        _ configuration: Configuration, sample: Int = defaultSample
    ) async throws -> RoundTripReport {
        guard let reverse = configuration.reverse else {
            return RoundTripReport(problems: [
                "the configuration has no reverse: section: writes to the new tables after the cut-over "
                    + "would reach no legacy table"
            ])
        }
        return try await SourceCheck.connect(configuration.source).closing { source in
            try await SourceCheck.connect(configuration.target, role: "target").closing { target in
                try await prove(configuration.tables, reverse, sample: sample, source: source, target: target)
            }
        }
    }

    private static func prove(
        _ tables: [TableMapping], _ reverse: [TableMapping], sample: Int, source: PGConnection, target: PGConnection
    ) async throws -> RoundTripReport {
        let entries = reverse.flatMap { table in table.targets.map { (from: table.source, mapping: $0) } }
        var newColumns: [TableName: [(name: String, type: String)]] = [:]
        for table in tables.flatMap({ $0.targets.map(\.into) }) + reverse.map(\.source) where newColumns[table] == nil {
            newColumns[table] = try await TargetCheck.columns(of: table, on: target).map {
                (name: $0.key, type: $0.value.type)
            }.sorted { $0.name < $1.name }
        }
        var seen = Set<TableName>()
        let legacyTables = (tables.map(\.source) + entries.map(\.mapping.into)).filter { seen.insert($0).inserted }
        var report = RoundTripReport()
        for table in legacyTables {
            let forward = tables.first { $0.source == table }?.targets ?? []
            let writers = entries.filter { $0.mapping.into == table }
            guard !writers.isEmpty else {
                report.problems.append(
                    "\(table) has no reverse mapping; "
                        + "writes to \(forward.map(\.into.description).joined(separator: ", ")) "
                        + "after the cut-over would not reach it")
                continue
            }
            guard let info = try await SourceCatalog.describe(table, on: source) else {
                report.problems.append(
                    "\(writers[0].mapping.location): legacy table \(table) does not exist in the source database")
                continue
            }
            var problems: [String] = []
            let written = Set(writers.flatMap { $0.mapping.columns.map(\.column) })
            for column in info.columns where column.generated == nil && !written.contains(column.name) {
                problems.append(
                    "\(table).\(SQLIdentifier.display(column.name)) has no reverse source: "
                        + "rows the new schema inserts leave it to its default")
            }
            for writer in writers {
                for column in writer.mapping.columns {
                    let name = SQLIdentifier.display(column.column)
                    if let legacyColumn = info.column(column.column) {
                        if legacyColumn.generated != nil {
                            problems.append(
                                "\(writer.mapping.location).columns.\(name): \(table).\(name) is a generated column, "
                                    + "which no write may set")
                        }
                    } else {
                        problems.append(
                            "\(writer.mapping.location).columns.\(name): legacy table \(table) "
                                + "has no column \(name)")
                    }
                }
                guard let columns = newColumns[writer.from], !columns.isEmpty else {
                    problems.append("\(writer.mapping.location): \(writer.from) does not exist in the target database")
                    continue
                }
                problems += try await compile(
                    writer.mapping, over: writer.from, columns: columns, into: info, on: source)
            }
            report.problems += problems
            let legs = writers.compactMap { writer in
                forward.firstIndex { $0.into == writer.from }.map {
                    RoundTripQuery.Leg(reverse: writer.mapping, forward: $0)
                }
            }
            for writer in writers where !forward.contains(where: { $0.into == writer.from }) {
                report.notes.append(
                    "\(writer.mapping.location) reads \(writer.from), which \(table) does not feed in tables:, "
                        + "so no sampled row of \(table) goes through it")
            }
            guard problems.isEmpty, !legs.isEmpty else { continue }
            let indexed = info.hasUniqueRowKey && !info.rowKey.isEmpty
            let query = RoundTripQuery(
                table: table, rows: info.ownRows, key: indexed ? info.rowKey : legs[0].reverse.key, ordered: indexed,
                legacy: info.columns.filter { $0.generated == nil }.map { (name: $0.name, type: $0.typeSQL) },
                forward: forward.map { (mapping: $0, columns: newColumns[$0.into] ?? []) }, legs: legs)
            do {
                let findings = query.findings(try await source.query(query.sql, [String(sample)]).rows.first ?? [])
                report.summary.append(findings.summary)
                report.notes += findings.notes
                report.problems += findings.problems
            } catch let error as PGError where error.kind == .server {
                report.problems.append(
                    "\(table): carrying the sampled rows forward and back fails on the source: "
                        + "\(error.description)")
            }
        }
        return report
    }

    /// Compiles each of a reverse entry's expressions and its `when` on the source, over one row of NULLs with the new
    /// table's column types (text where the source lacks the type), each cast to its legacy column's type.
    private static func compile(
        _ mapping: TargetMapping, over table: TableName, columns: [(name: String, type: String)],
        into legacy: SourceTableInfo, on source: PGConnection
    ) async throws -> [String] {
        var nulls: [String] = []
        for column in columns {
            let known = try await source.query("SELECT to_regtype($1) IS NOT NULL", [column.type]).scalar == "t"
            nulls.append("NULL::\(known ? column.type : "text") AS \(SQLQuoting.identifier(column.name))")
        }
        let row = "(SELECT \(nulls.joined(separator: ", "))) AS \(SQLQuoting.identifier(table.name))"
        var pieces = mapping.columns.compactMap { column in
            legacy.column(column.column).map {
                (
                    "columns.\(SQLIdentifier.display(column.column))",
                    "SELECT ((\(column.expression))::\($0.typeSQL)) FROM \(row)"
                )
            }
        }
        if let when = mapping.when { pieces.append(("when", "SELECT 1 FROM \(row) WHERE (\(when))")) }
        var problems: [String] = []
        for (name, sql) in pieces {
            do {
                try await source.query("EXPLAIN \(sql)")
            } catch let error as PGError where error.kind == .server {
                problems.append(
                    "\(mapping.location).\(name): does not compile against the columns of \(table): "
                        + "\(error.description)")
            }
        }
        return problems
    }
}
