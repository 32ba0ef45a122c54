import PGClient

/// Checks the target against the plan: tables, columns, a unique constraint for each key, and
/// that every statement the bridge will run compiles (expressions, `when`, types).
enum TargetCheck {
    /// Every problem found; none means the plan can run.
    static func problems(_ plan: MappingPlan, on target: PGConnection) async throws -> [PlanProblem] {
        var problems: [PlanProblem] = []
        for source in plan.sources {
            for mapped in source.targets {
                let location = mapped.mapping.location
                let table = mapped.mapping.into
                guard let oid = try await target.query("SELECT to_regclass($1)::oid", [table.quoted]).scalar else {
                    problems.append(
                        PlanProblem(
                            location: location, message: "target table \(table) does not exist in the target database"))
                    continue
                }
                let existing = try await columns(of: table, on: target)
                let missing = mapped.mapping.columns.map(\.column).filter { existing[$0] == nil }
                if !missing.isEmpty {
                    problems.append(
                        PlanProblem(
                            location: location,
                            message: "target table \(table) has no column \(missing.joined(separator: ", "))"))
                    continue
                }
                if !mapped.inPlace {
                    if let problem = try await keyProblem(mapped, table: table, oid: oid, on: target) {
                        problems.append(problem)
                        continue
                    }
                }
                problems += try await compile(source, mapped, on: target)
            }
        }
        return problems
    }

    /// Why the target's key cannot be an ON CONFLICT arbiter: no unique index on exactly its columns (INCLUDE columns
    /// are not key columns), or a DEFERRABLE one, which ON CONFLICT refuses even beside an immediate one.
    private static func keyProblem(
        _ mapped: TargetPlan, table: TableName, oid: String, on target: PGConnection
    ) async throws -> PlanProblem? {
        let uniques = try await target.query("""
            SELECT array_to_string(array_agg(a.attname ORDER BY a.attname), ','), bool_and(i.indimmediate),
                   min(c.conname), bool_or(c.contype = 'p')
            FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
            WHERE i.indrelid = $1 AND i.indisunique AND i.indpred IS NULL \
            AND i.indexprs IS NULL AND k.ord <= i.indnkeyatts
            GROUP BY i.indexrelid
            """, [oid]).rows
        let key = mapped.mapping.key
        let columns = key.map(SQLQuoting.identifier).joined(separator: ", ")
        let matching = uniques.filter { $0[0] == key.sorted().joined(separator: ",") }
        if let deferrable = matching.first(where: { $0[1] != "t" }) {
            let name = SQLQuoting.identifier(deferrable[2] ?? "")
            let kind = deferrable[3] == "t" ? "PRIMARY KEY" : "UNIQUE"
            return PlanProblem(
                location: mapped.mapping.location,
                message: "key \(key.joined(separator: ", ")) of \(table) "
                    + "is unique through the DEFERRABLE constraint \(name), "
                    + "which INSERT … ON CONFLICT refuses as an arbiter: make it immediate, e.g. "
                    + "ALTER TABLE \(table.quoted) DROP CONSTRAINT \(name), ADD CONSTRAINT \(name) "
                    + "\(kind) (\(columns))")
        }
        if !matching.isEmpty { return nil }
        return PlanProblem(
            location: mapped.mapping.location,
            message: "key \(key.joined(separator: ", ")) has no unique constraint on \(table): add one, e.g. "
                + "ALTER TABLE \(table.quoted) ADD UNIQUE (\(columns))")
    }

    /// Compiles the target's statements with EXPLAIN inside a rolled-back transaction; a failure is traced to the
    /// column or `when` at fault.
    private static func compile(
        _ source: SourcePlan, _ mapped: TargetPlan, on target: PGConnection
    ) async throws -> [PlanProblem] {
        let types = try await stagingTypes(source, on: target)
        try await target.simpleQuery("BEGIN")
        do {
            try await target.query(source.createStaging(types: types))
            var problems: [PlanProblem] = []
            for statement in source.statements(for: mapped).all {
                if let error = try await explainError(statement, on: target) {
                    problems.append(try await locate(error, source, mapped, on: target))
                    break
                }
            }
            try await target.simpleQuery("ROLLBACK")
            return problems
        } catch {
            _ = try? await target.simpleQuery("ROLLBACK")
            throw error
        }
    }

    /// Finds which expression makes a statement fail, by compiling each on its own.
    private static func locate(
        _ error: PGError, _ source: SourcePlan, _ mapped: TargetPlan, on target: PGConnection
    ) async throws -> PlanProblem {
        let location = mapped.mapping.location
        var pieces = mapped.mapping.columns.map { column in
            let cast = mapped.castTypes[column.column].map { "::\($0)" } ?? ""
            return ("columns.\(column.column)", "SELECT (\(column.expression))\(cast) FROM \(source.staging)")
        }
        if let when = mapped.mapping.when { pieces.append(("when", "SELECT 1 FROM \(source.staging) WHERE (\(when))")) }
        for (name, sql) in pieces {
            if let pieceError = try await explainError(sql, on: target) {
                return PlanProblem(
                    location: "\(location).\(name)",
                    message: "does not compile against the source columns: \(pieceError.description)")
            }
        }
        return PlanProblem(
            location: location,
            message: "the statements for \(mapped.mapping.into) do not compile: \(error.description)")
    }

    /// EXPLAINs one statement inside a savepoint of the open transaction; returns the server's error, if any.
    /// The extended protocol runs exactly one statement, whatever the configuration's expressions hold.
    private static func explainError(_ sql: String, on target: PGConnection) async throws -> PGError? {
        try await target.query("SAVEPOINT walbridge_check")
        do {
            try await target.query("EXPLAIN \(sql)")
            try await target.query("RELEASE SAVEPOINT walbridge_check")
            return nil
        } catch let error as PGError where error.kind == .server {
            try await target.query("ROLLBACK TO SAVEPOINT walbridge_check")
            return error
        }
    }

    /// Each column of `table` in the target: its type as `format_type` spells it, the same without the type modifier
    /// (`numeric` for `numeric(10,2)`), and whether it sorts by a collation.
    static func columns(
        of table: TableName, on target: PGConnection
    ) async throws -> [String: (type: String, baseType: String, collated: Bool)] {
        let rows = try await target.query("""
            SELECT attname, format_type(atttypid, atttypmod), format_type(atttypid, \
            NULL), attcollation <> 0 FROM pg_attribute
            WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped
            """, [table.quoted]).rows
        return Dictionary(
            rows.map { ($0[0] ?? "", (type: $0[1] ?? "text", baseType: $0[2] ?? "text", collated: $0[3] == "t")) },
            uniquingKeysWith: { first, _ in first })
    }

    /// The staging column types: the source's, or text where the target lacks the type.
    static func stagingTypes(_ source: SourcePlan, on target: PGConnection) async throws -> [String] {
        var types: [String] = []
        for column in source.stagedColumns {
            let known = try await target.query("SELECT to_regtype($1) IS NOT NULL", [column.typeSQL]).scalar == "t"
            types.append(known ? column.typeSQL : "text")
        }
        return types
    }
}
