import PGClient

/// One way a target differs from what the mapping says it must hold.
struct Difference: Sendable {
    var target: String
    var key: String
    var detail: String
    /// `missing`, `extra`, `differs`, `kept unlike removed row` or `in place`.
    var kind: String
}

/// Evaluates the mapping by SQL over the source's final state and compares it with the targets, row by row.
struct Oracle {
    let scenario: Scenario
    let source: ConnectionString
    let target: ConnectionString

    /// Session settings that make text forms comparable on both sides.
    static let settings =
        "SET timezone = 'UTC'; SET datestyle = 'ISO, YMD'; SET extra_float_digits = 3; SET bytea_output = 'hex'; "
        + "SET intervalstyle = 'postgres'"

    /// Every difference, for all targets.
    func differences() async throws -> [Difference] {
        try await PGConnection.connect(source).closing { source in
            try await PGConnection.connect(target).closing { target in
                try await source.simpleQuery(Self.settings)
                try await target.simpleQuery(Self.settings)
                var found: [Difference] = []
                for spec in scenario.mapping.targets {
                    let table = scenario.schema.tables[spec.table]
                    if spec.inPlace {
                        found += try await inPlace(spec, table, source)
                    } else {
                        found += try await compare(spec, table, source, target)
                    }
                }
                return found
            }
        }
    }

    /// `format_type` of each column of `table` in the database `connection` points at.
    private func types(_ table: String, _ connection: PGConnection) async throws -> [String: String] {
        let rows = try await connection.query("""
            SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
            WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped
            """, [table]).rows
        return Dictionary(rows.map { ($0[0] ?? "", $0[1] ?? "text") }, uniquingKeysWith: { a, _ in a })
    }

    /// The mapped rows of `from` (the source table or its side table of removed rows), as text in the target's types.
    private func expected(
        _ spec: TargetSpec, from: String, _ types: [String: String], _ source: PGConnection, removedBy: [String]? = nil
    ) async throws -> [[String?]] {
        let columns = spec.columns.map { "((\($0.expression))::\(types[$0.name] ?? $0.type))::text" }
            .joined(separator: ", ")
        let how = removedBy.map { " AND difftest_how IN (\($0.map(SQLText.literal).joined(separator: ", ")))" } ?? ""
        return try await source.query(
            "SELECT \(columns) FROM \(from) WHERE coalesce((\(spec.when ?? "true")), false)\(how)"
        ).rows
    }

    private func compare(
        _ spec: TargetSpec, _ table: SourceTable, _ source: PGConnection, _ target: PGConnection
    ) async throws -> [Difference] {
        let types = try await types(spec.sql, target)
        let expected = try await expected(spec, from: table.ownRows, types, source)
        let actual = try await target.query(
            "SELECT \(spec.columns.map { "\($0.sql)::text" }.joined(separator: ", ")) "
                + "FROM \(spec.archive ? "ONLY " : "")\(spec.sql)"
        ).rows
        let keys = spec.keyPositions
        func key(_ row: [String?]) -> [String?] { keys.map { row[$0] } }
        func keyText(_ row: [String?]) -> String {
            "(" + spec.key.joined(separator: ", ") + ")=(" + key(row).map(SQLText.short).joined(separator: ", ") + ")"
        }
        var differences: [Difference] = []
        var expectedByKey: [[String?]: [[String?]]] = [:]
        for row in expected { expectedByKey[key(row), default: []].append(row) }
        var actualByKey: [[String?]: [[String?]]] = [:]
        for row in actual { actualByKey[key(row), default: []].append(row) }
        var removed = Set<[String?]>()
        var removedByKey: [[String?]: [[String?]]] = [:]
        if spec.keepsRemovedRows {
            let kinds =
                (spec.onDelete == "ignore" ? ["delete"] : []) + (spec.onTruncate == "ignore" ? ["truncate"] : [])
            let rows = try await self.expected(spec, from: table.goneTable, types, source, removedBy: kinds)
            removed = Set(rows)
            for row in rows { removedByKey[key(row), default: []].append(row) }
        }
        // walbridge check documents that a row kept by on_delete or on_truncate: ignore, in a table without REPLICA
        // IDENTITY FULL, may keep columns computed from unchanged TOAST values as they were (the delete does not carry
        // them): those are not compared.
        let lenient = Set(spec.keepsRemovedRows && table.identity != .full
            ? spec.columns.indices.filter { spec.columns[$0].reads.contains { table.columns[$0].toast } } : [])
        func strict(_ row: [String?]) -> [String?] { row.indices.map { lenient.contains($0) ? nil : row[$0] } }
        let removedStrict = Set(removed.map(strict))
        func columnDifferences(_ expected: [String?], _ actual: [String?], skipping: Set<Int> = []) -> [String] {
            spec.columns.indices.filter { actual[$0] != expected[$0] && !skipping.contains($0) }.map {
                "\(spec.columns[$0].name): expected \(SQLText.short(expected[$0])), target \(SQLText.short(actual[$0]))"
            }
        }
        for (k, rows) in expectedByKey.sorted(by: { Self.order($0.key, $1.key) }) {
            guard let have = actualByKey[k] else {
                differences.append(
                    Difference(
                        target: spec.sql, key: keyText(rows[0]),
                        detail: "missing in the target; expected \(describe(rows[0], spec))", kind: "missing"))
                continue
            }
            if rows.count > 1 {
                differences.append(
                    Difference(
                        target: spec.sql, key: keyText(rows[0]),
                        detail: "the oracle itself has \(rows.count) rows for this key (harness bug)", kind: "oracle"))
            }
            if have[0] != rows[0] {
                differences.append(
                    Difference(
                        target: spec.sql, key: keyText(rows[0]),
                        detail: columnDifferences(rows[0], have[0]).joined(separator: "; "), kind: "differs"))
            }
        }
        for (k, rows) in actualByKey.sorted(by: { Self.order($0.key, $1.key) }) where expectedByKey[k] == nil {
            if spec.keepsRemovedRows && (removed.contains(rows[0]) || removedStrict.contains(strict(rows[0]))) {
                continue
            }
            if let versions = removedByKey[k] {
                // Kept after a delete or truncate, but not as any removed version's mapping: show the closest one.
                let closest = versions.min {
                    columnDifferences($0, rows[0], skipping: lenient).count
                        < columnDifferences($1, rows[0], skipping: lenient).count
                }!
                differences.append(Difference(
                    target: spec.sql, key: keyText(rows[0]),
                    detail: "kept after the source row was removed, but unlike its mapping: "
                        + columnDifferences(closest, rows[0], skipping: lenient).joined(separator: "; "),
                    kind: "kept unlike removed row"))
                continue
            }
            let why =
                spec.keepsRemovedRows
                ? "not in the source and not any removed source row's mapping" : "not in the source"
            differences.append(
                Difference(
                    target: spec.sql, key: keyText(rows[0]),
                    detail: "in the target only (\(why)): \(describe(rows[0], spec))", kind: "extra"))
        }
        return differences
    }

    /// In place: each row's new column must equal its expression over the row.
    private func inPlace(
        _ spec: TargetSpec, _ table: SourceTable, _ source: PGConnection
    ) async throws -> [Difference] {
        let types = try await types(table.sql, source)
        let keys = table.key.map { "\(table.columns[$0].sql)::text" }
        var differences: [Difference] = []
        for column in spec.added {
            let rows = try await source.query("""
                SELECT \(keys.joined(separator: ", ")), \(column.sql)::text, \
                ((\(column.expression))::\(types[column.name] ?? column.type))::text
                FROM \(table.ownRows)
                """).rows
            for row in rows.sorted(by: Self.order) where row[keys.count] != row[keys.count + 1] {
                let key =
                    "(" + table.key.map { table.columns[$0].name }.joined(separator: ", ") + ")=("
                    + row[..<keys.count].map(SQLText.short).joined(separator: ", ") + ")"
                differences.append(Difference(
                    target: "\(table.sql) (in place)", key: key,
                        detail: "\(column.name): expected \(SQLText.short(row[keys.count + 1])), "
                            + "has \(SQLText.short(row[keys.count]))", kind: "in place"))
            }
        }
        return differences
    }

    private func describe(_ row: [String?], _ spec: TargetSpec) -> String {
        zip(spec.columns, row).map { "\($0.name)=\(SQLText.short($1))" }.joined(separator: ", ")
    }

    /// Orders rows by their values as Swift strings (NULL first), not by any SQL collation.
    static func order(_ a: [String?], _ b: [String?]) -> Bool {
        for (x, y) in zip(a, b) where x != y {
            guard let x else { return true }
            guard let y else { return false }
            return x < y
        }
        return a.count < b.count
    }
}
