import PGClient

extension SourcePlan {
    /// The staging table's qualified name.
    var staging: String {
        "pg_temp." + SQLQuoting.identifier(stagingTable)
    }

    /// DDL for the session's staging table; `types` are the column types to use (the source's, or text where the target
    /// lacks one).
    func createStaging(types: [String]) -> String {
        let columns = zip(stagedColumns, types).map { "\(SQLQuoting.identifier($0.name)) \($1)" }
        return "CREATE TEMP TABLE IF NOT EXISTS \(SQLQuoting.identifier(stagingTable)) (\(StagingColumn.seq) int4, "
            + "\(StagingColumn.op) \"char\", \(StagingColumn.unchanged) int2[], \(columns.joined(separator: ", "))) "
            + "ON COMMIT DELETE ROWS"
    }

    /// The SQL that applies this source's staged rows to `target`.
    func statements(for target: TargetPlan) -> TargetStatements {
        let mapping = target.mapping
        let table = mapping.into.quoted
        let q = SQLQuoting.identifier
        let when = "COALESCE((\(mapping.when ?? "true")), false)"
        let keys = mapping.key.map(q)
        let nonKey = mapping.columns.filter { !mapping.key.contains($0.column) }
        let keyMatch = keys.map { "t.\($0) = m.\($0)" }.joined(separator: " AND ")
        // Each expression cast to its column's type, so that keys compare and CASE branches combine as the column holds
        // them.
        let value = { (column: ColumnMapping) in
            target.castTypes[column.column].map { "(\(column.expression))::\($0)" } ?? "(\(column.expression))"
        }
        let selectKeys = mapping.key.map { key in
            "\(mapping.columns.first { $0.column == key }.map(value) ?? "NULL") AS \(q(key))"
        }
        let selectAll = mapping.columns.map { "\(value($0)) AS \(q($0.column))" }
        // With on_delete: ignore, a row deleted after a write in the batch stays, with that write's values.
        let live = mapping.onDelete == .ignore ? StagingOp.sql(.upsert, .deletedAfterWrite) : StagingOp.sql(.upsert)
        let complete = "\(live) AND \(StagingColumn.unchanged) IS NULL AND \(when)"
        let fresh = "\(StagingOp.sql(.insert)) AND \(when)"
        let columnList = mapping.columns.map { q($0.column) }.joined(separator: ", ")
        let expressions = mapping.columns.map(value).joined(separator: ", ")

        // A target whose columns are all key columns has nothing to update: touch the key so the match still counts.
        let set =
            nonKey.isEmpty
            ? keys.prefix(1).map { "\($0) = t.\($0)" }.joined()
            : nonKey.map { "\(q($0.column)) = m.\(q($0.column))" }.joined(separator: ", ")
        // With on_delete: clear, where a delete would remove the row, this entry's columns become NULL instead.
        let remove: (String) -> String = { rows in
            mapping.onDelete == .clear
                ? "UPDATE \(target.ownRows) AS t SET \(target.cleared) FROM (\(rows)) AS m WHERE \(keyMatch)"
                : "DELETE FROM \(target.ownRows) AS t USING (\(rows)) AS m WHERE \(keyMatch)"
        }
        var deleteWhen: [String] = []
        if !target.inPlace && !keyedOutsideRowKey(target) { deleteWhen.append(StagingOp.sql(.oldKey)) }
        if !target.inPlace && keyedOutsideRowKey(target) {
            deleteWhen.append(
                target.removes
                    ? StagingOp.sql(.oldKey, .rekeyed, .displaced, .displacedAfterWrite)
                    : StagingOp.sql(.oldKey, .rekeyed))
            // Kept there, its last write's `when` decides: a row that left the filter before its delete leaves the
            // target.
            if mapping.onDelete == .ignore && mapping.when != nil {
                deleteWhen.append("(\(StagingOp.sql(.displacedAfterWrite)) AND NOT \(when))")
            }
        }
        if target.removes { deleteWhen.append(StagingOp.sql(.delete, .deletedAfterWrite)) }
        if !target.inPlace && mapping.when != nil { deleteWhen.append("(\(live) AND NOT \(when))") }
        let delete = deleteWhen.isEmpty ? nil :
            remove(
                "SELECT \(selectKeys.joined(separator: ", ")) FROM \(staging) "
                    + "WHERE \(deleteWhen.joined(separator: " OR "))")

        let onConflict = nonKey.isEmpty
            ? "DO NOTHING"
            : "DO UPDATE SET " + nonKey.map { "\(q($0.column)) = EXCLUDED.\(q($0.column))" }.joined(separator: ", ")
        let write: String
        let insertFresh: String
        if target.updatesOnly {
            // Nothing is inserted: fresh rows update the row the application (in place) or another entry wrote, like
            // any other.
            write =
                "UPDATE \(target.ownRows) AS t SET \(set) "
                + "FROM (SELECT \(selectAll.joined(separator: ", ")) FROM \(staging) "
                + "WHERE (\(complete)) OR (\(fresh))) AS m WHERE \(keyMatch)"
            insertFresh = write
        } else {
            write =
                "INSERT INTO \(table) (\(columnList)) SELECT \(expressions) FROM \(staging) WHERE \(complete) "
                + "ON CONFLICT (\(keys.joined(separator: ", "))) \(onConflict)"
            // A target that keeps rows the source deleted or truncated may hold a "new" key already: upsert there too.
            insertFresh = "INSERT INTO \(table) (\(columnList)) SELECT \(expressions) FROM \(staging) WHERE \(fresh)"
                + (target.keepsRows ? " ON CONFLICT (\(keys.joined(separator: ", "))) \(onConflict)" : "")
        }

        let keepsDisplaced = !target.updatesOnly && keyedOutsideRowKey(target) && mapping.onDelete == .ignore
        let keepDisplaced = keepsDisplaced
            ? "INSERT INTO \(table) (\(columnList)) SELECT \(expressions) FROM \(staging) "
                + "WHERE \(StagingOp.sql(.displacedAfterWrite)) AND \(when) "
                + "ON CONFLICT (\(keys.joined(separator: ", "))) \(onConflict)"
            : nil
        // A scalar subquery of two rows raises 21000, only where such a key exists.
        let keptCollision = keepsDisplaced
            ? "SELECT (SELECT 1 UNION ALL SELECT 2) FROM (SELECT 1 FROM (SELECT \(selectKeys.joined(separator: ", ")), "
                + "\(StagingColumn.op) FROM \(staging)) AS s GROUP BY \(keys.joined(separator: ", ")) "
                + "HAVING count(*) > 1 AND bool_or(\(StagingOp.sql(.deletedAfterWrite, .displacedAfterWrite))) "
                + "LIMIT 1) AS collision"
            : nil

        var partialSelect = ["\(StagingColumn.seq)"] + selectAll
        var partialSet: [String] = []
        for (index, column) in mapping.columns.enumerated() where !mapping.key.contains(column.column) {
            let deps = target.dependencies[index]
            if deps.isEmpty {
                partialSet.append("\(q(column.column)) = m.\(q(column.column))")
            } else {
                let present = q("__wb_present_\(index)")
                partialSelect.append(
                    "NOT (\(StagingColumn.unchanged) && '{\(deps.map { String($0) }.joined(separator: ","))"
                        + "}'::int2[]) AS \(present)")
                partialSet.append(
                    "\(q(column.column)) = CASE WHEN m.\(present) THEN m.\(q(column.column)) "
                        + "ELSE t.\(q(column.column)) END")
            }
        }
        // A target whose columns are all key columns has nothing to update: touch the key so the match still counts.
        if partialSet.isEmpty, let key = keys.first { partialSet.append("\(key) = t.\(key)") }
        let writePartial = """
            WITH m AS (SELECT \(partialSelect.joined(separator: ", ")) FROM \(staging) WHERE \(live) \
            AND \(StagingColumn.unchanged) IS NOT NULL AND \(when)), \
            u AS (UPDATE \(target.ownRows) AS t SET \(partialSet.joined(separator: ", ")) FROM m WHERE \(keyMatch) \
            RETURNING m.\(StagingColumn.seq)) \
            SELECT \(StagingColumn.seq) FROM m WHERE \(StagingColumn.seq) NOT IN (SELECT \(StagingColumn.seq) FROM u)
            """

        let insertAll = target.updatesOnly
            ? "UPDATE \(target.ownRows) AS t SET \(set) "
                + "FROM (SELECT \(selectAll.joined(separator: ", ")) FROM \(staging) WHERE \(when)) AS m "
                + "WHERE \(keyMatch)"
            : "INSERT INTO \(table) (\(columnList)) SELECT \(expressions) FROM \(staging) WHERE \(when)"
        let deleteUnwanted = mapping.when == nil || target.inPlace ? nil :
            remove("SELECT \(selectKeys.joined(separator: ", ")) FROM \(staging) WHERE NOT \(when)")
        return TargetStatements(
            delete: delete, keptCollision: keptCollision, keepDisplaced: keepDisplaced, write: write,
            insertFresh: insertFresh, writePartial: writePartial, insertAll: insertAll, deleteUnwanted: deleteUnwanted)
    }
}

extension TargetPlan {
    /// The SET list that clears this entry's non-key columns (a target of key columns alone touches its key).
    var cleared: String {
        let nonKey = mapping.nonKeyColumns.map { "\(SQLQuoting.identifier($0.column)) = NULL" }
        return nonKey.isEmpty
            ? mapping.key.prefix(1).map { "\(SQLQuoting.identifier($0)) = t.\(SQLQuoting.identifier($0))" }.joined()
            : nonKey.joined(separator: ", ")
    }

    /// What a TRUNCATE of the source runs under `on_truncate: truncate`: TRUNCATE, or with `on_delete: clear` (the
    /// target holds other entries' columns) this entry's columns set to NULL in every row.
    var truncation: String {
        mapping.onDelete == .clear
            ? "UPDATE \(ownRows) AS t SET \(cleared)" : "TRUNCATE \(ownRows)"
    }
}
