import PGClient

/// One legacy table's round trip as one statement on the source: a sample of legacy rows, each forward target's row
/// (its columns cast to the target's types, where its `when` holds), each reverse entry over that row alone (its
/// columns cast to the legacy types), and per legacy column how many sampled rows come back different, with one
/// example.
struct RoundTripQuery: Sendable {
    /// One reverse entry and the forward target whose rows it reads (an index into `forward`).
    struct Leg: Sendable {
        var reverse: TargetMapping
        var forward: Int
    }

    /// The legacy columns compared, in the order of the result's groups of four.
    let columns: [String]
    /// The statement; `$1` is the sample size.
    let sql: String
    /// The legacy key columns each example names.
    let key: [String]
    /// The table, for messages.
    let table: TableName

    /// The statement for `table` (`legacy`: its non-generated columns and types, in table order), fed by `forward`
    /// (each with every column of its new table and the target's type) and read back by `legs`; each example is the
    /// differing row with the lowest key where `ordered` (a key of a unique index), else any differing row; the rows
    /// are sampled from `rows` (the table's own, `ONLY`), `table` itself by default.
    init(
        table: TableName, rows: String? = nil, key: [String], ordered: Bool, legacy: [(name: String, type: String)],
        forward: [(mapping: TargetMapping, columns: [(name: String, type: String)])], legs: [Leg]
    ) {
        self.table = table
        self.key = key
        let compared = legacy.filter { column in
            legs.contains { $0.reverse.columns.contains { $0.column == column.name } }
        }
        columns = compared.map(\.name)
        let types = Dictionary(legacy.map { ($0.name, $0.type) }, uniquingKeysWith: { first, _ in first })
        let row = SQLQuoting.identifier("__walbridge_row")
        let sample = SQLQuoting.identifier("__walbridge_sample")
        let alias = SQLQuoting.identifier(table.name)
        var ctes = [
            "\(sample) AS MATERIALIZED (SELECT row_number() "
                + "OVER (\(ordered ? "ORDER BY " + key.map(SQLQuoting.identifier).joined(separator: ", ") : "")) "
                + "AS \(row), * FROM (SELECT * FROM \(rows ?? table.quoted) ORDER BY random() "
                + "LIMIT $1::bigint) AS \(alias))"
        ]
        for index in Set(legs.map(\.forward)).sorted() {
            let (mapping, targetColumns) = forward[index]
            let values = targetColumns.map { column in
                let expression =
                    mapping.columns.first { $0.column == column.name }.map { "(\($0.expression))" } ?? "NULL"
                return "(\(expression)::\(column.type)) AS \(SQLQuoting.identifier(column.name))"
            }
            ctes.append("""
                \(Self.forwardName(index)) AS (SELECT \(([row] + values).joined(separator: ", ")) \
                FROM \(sample) AS \(alias)\(mapping.when.map { " WHERE (\($0))" } ?? ""))
                """)
        }
        for (index, leg) in legs.enumerated() {
            let values = leg.reverse.columns.enumerated().compactMap { position, column in
                types[column.column].map { "(((\(column.expression))::\($0))::text) AS v\(position)" }
            }
            ctes.append("""
                \(Self.reverseName(index)) AS (SELECT \(([row] + values).joined(separator: ", ")) \
                FROM \(Self.forwardName(leg.forward)) \
                AS \(SQLQuoting.identifier(forward[leg.forward].mapping.into.name))\
                \(leg.reverse.when.map { " WHERE (\($0))" } ?? ""))
                """)
        }
        let present = legs.indices.map { "b\($0).\(row) IS NOT NULL" }
        var selected = [
            "s.\(row) AS n", "ROW(\(key.map { "s.\(SQLQuoting.identifier($0))" }.joined(separator: ", ")))::text AS k",
            "(\(present.isEmpty ? "false" : present.joined(separator: " OR "))) AS reached",
        ]
        for (index, column) in compared.enumerated() {
            let legacy = "(s.\(SQLQuoting.identifier(column.name)))::text"
            let differs = legs.enumerated().compactMap { legIndex, leg -> (String, String)? in
                guard let position = leg.reverse.columns.firstIndex(where: { $0.column == column.name }) else {
                    return nil
                }
                let value = "b\(legIndex).v\(position)"
                let distinct = "\(legacy) IS DISTINCT FROM \(value)"
                // A key column comes back from each entry whose row exists; any other column from its entry, NULL where
                // that row is absent.
                return (
                    leg.reverse.key.contains(column.name)
                        ? "(b\(legIndex).\(row) IS NOT NULL AND \(distinct))" : "(\(distinct))", value
                )
            }
            let value =
                "CASE \(differs.map { "WHEN \($0.0) THEN \($0.1)" }.joined(separator: " ")) "
                + "ELSE \(differs[0].1) END"
            selected += [
                "(\(differs.map(\.0).joined(separator: " OR "))) AS d\(index)", "\(legacy) AS l\(index)",
                "\(value) AS r\(index)"
            ]
        }
        let joins = legs.indices.map { " LEFT JOIN \(Self.reverseName($0)) AS b\($0) ON b\($0).\(row) = s.\(row)" }
            .joined()
        ctes.append(
            "\(SQLQuoting.identifier("__walbridge_compared")) AS (SELECT \(selected.joined(separator: ", ")) "
                + "FROM \(sample) AS s\(joins))")
        var results = [
            "count(*)", "count(*) FILTER (WHERE NOT reached)", "(array_agg(k ORDER BY n) FILTER (WHERE NOT reached))[1]"
        ]
        for index in compared.indices {
            let filter = "FILTER (WHERE reached AND d\(index))"
            results +=
                ["count(*) \(filter)"]
                + ["k", "l\(index)", "r\(index)"].map { "(array_agg(\($0) ORDER BY n) \(filter))[1]" }
        }
        sql =
            "WITH \(ctes.joined(separator: ",\n")) SELECT \(results.joined(separator: ", ")) "
            + "FROM \(SQLQuoting.identifier("__walbridge_compared"))"
    }

    private static func forwardName(_ index: Int) -> String { SQLQuoting.identifier("__walbridge_forward_\(index)") }
    private static func reverseName(_ index: Int) -> String { SQLQuoting.identifier("__walbridge_reverse_\(index)") }

    /// What the statement's one row says: a line for the section, notes, and a problem per column that does not round-
    /// trip.
    func findings(_ row: [String?]) -> (summary: String, notes: [String], problems: [String]) {
        let sampled = Int(row[0] ?? "") ?? 0
        let unreached = Int(row[1] ?? "") ?? 0
        let keyText = "(\(key.joined(separator: ", ")))="
        let notes = unreached == 0 ? [] : [
                "\(unreached) of \(sampled) sampled rows of \(table) reach no reverse entry "
                    + "(\(keyText)\(row[2] ?? "")): no new table holds them, so their columns are not compared"
        ]
        let differing = columns.enumerated().compactMap { index, column -> (column: String, problem: String)? in
            let base = 3 + 4 * index
            let count = Int(row[base] ?? "") ?? 0
            guard count > 0 else { return nil }
            let back = row[base + 3]
            let hint = back == nil ? "no reverse entry gives it a value" : "a lossy cast or expression?"
            let example =
                "\(keyText)\(row[base + 1] ?? ""): \(row[base + 2] ?? "NULL") became \(back ?? "NULL") (\(hint))"
            return (
                column,
                "\(table).\(SQLIdentifier.display(column)) does not round-trip on \(count) of \(sampled) "
                    + "sampled rows: \(example)"
            )
        }
        let names = differing.map { SQLIdentifier.display($0.column) }.joined(separator: ", ")
        let verdict =
            differing.isEmpty
            ? "every one round-trips" : "\(names) \(differing.count == 1 ? "does" : "do") not round-trip"
        let problems = differing.map(\.problem)
        return ("\(table): \(sampled) sampled rows, \(columns.count) columns compared; \(verdict)", notes, problems)
    }
}
