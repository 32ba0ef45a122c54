import Foundation

/// Printing a case and its failure, and writing the reproduction files.
enum Report {
    /// Prints a line at once (the test runner may be reading).
    static func say(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// The case's shape in a few lines.
    static func shape(_ scenario: Scenario) -> String {
        var lines = scenario.schema.tables.map { "    table \($0.summary)" }
        for target in scenario.mapping.targets {
            var text =
                "    target \(target.inPlace ? "\(scenario.schema.tables[target.table].sql) (in place)" : target.sql) "
                + "key "
                + "(\(target.key.joined(separator: ", ")))"
            if let when = target.when { text += " when \(when)" }
            if let onDelete = target.onDelete { text += ", on_delete \(onDelete)" }
            if let onTruncate = target.onTruncate { text += ", on_truncate \(onTruncate)" }
            if let include = target.include { text += ", INCLUDE (\(include))" }
            if target.deferrableKey { text += ", DEFERRABLE key" }
            if target.archive { text += ", inherited by \(target.name)_archive" }
            if let unique = target.deferredUnique { text += ", deferred UNIQUE (\(unique))" }
            for key in target.references {
                text +=
                    ", (\(key.columns.joined(separator: ", "))) → \(key.parent) "
                    + "ON DELETE \(key.onDelete)\(key.deferrable ? " DEFERRABLE" : "")"
            }
            let table = scenario.schema.tables[target.table]
            let retyped = target.columns.contains { column in
                column.type == "text" && column.reads.count == 1
                    && column.expression == table.columns[column.reads[0]].sql
                    && !table.columns[column.reads[0]].type.isTextLike
            }
            if retyped { text += ", a column of another type than its expression" }
            lines.append(text)
        }
        let w = scenario.workload
        lines.append(
            "    workload: \(w.sessions.count) session(s), \(w.transactionCount) "
                + "transactions, \(w.faults.count) fault(s), chunk \(scenario.chunkRows) "
                + "rows\(scenario.sliceRows.map { ", slice \($0) rows" } ?? "")"
                + "\(scenario.backfillRate.map { ", backfill \($0) rows/s" } ?? "")"
        )
        return lines.joined(separator: "\n")
    }

    /// What failed: the seed, DDL, mapping and the first differences.
    static func failure(_ scenario: Scenario, _ outcome: CaseOutcome, yaml: String) -> String {
        var lines = ["FAILURE seed \(scenario.seed) (rerun: \(scenario.rerun))"]
        if let problem = outcome.problem {
            lines.append("  problem: " + problem.replacingOccurrences(of: "\n", with: "\n    "))
        }
        lines.append("  source schema:")
        lines += scenario.sourceDDL.map { "    " + $0.replacingOccurrences(of: "\n", with: "\n    ") + ";" }
        lines.append("  target schema\(scenario.mapping.inPlace ? " (in the source database)" : ""):")
        lines += scenario.targetDDL.map { "    " + $0.replacingOccurrences(of: "\n", with: "\n    ") + ";" }
        lines.append("  mapping (walbridge.yml):")
        lines += yaml.split(separator: "\n").filter {
            !$0.hasPrefix("source:") && !$0.hasPrefix("target:") && !$0.hasPrefix("#")
        }.map { "    " + $0 }
        if !outcome.differences.isEmpty {
            lines.append(
                "  differences (first \(min(10, outcome.differences.count)) "
                    + "of \(outcome.differences.count))\(outcome.transient ? ", gone 2 s later" : ""):")
            lines += differences(outcome.differences, limit: 10)
        }
        return lines.joined(separator: "\n")
    }

    static func differences(_ differences: [Difference], limit: Int) -> [String] {
        differences.prefix(limit).map { "    \($0.target) \($0.key): \($0.detail)" }
    }

    /// The shrunk reproduction as one SQL script: source schema and rows, target schema, configuration, workload.
    static func script(
        _ scenario: Scenario, transactions: [Transaction], initialRows: [[InitialRow]], note: String
    ) -> String {
        // Tables that no target maps and no statement names are left out.
        let text = transactions.flatMap(\.statements).joined(separator: "\n")
        var schema = scenario.schema
        var rows = initialRows
        let keep = schema.tables.indices.filter { index in
            scenario.mapping.targets.contains { $0.table == index } || text.contains(schema.tables[index].sql)
        }
        schema.tables = keep.map { schema.tables[$0] }
        rows = keep.map { rows[$0] }
        var workload = scenario.workload
        workload.initialRows = rows
        var script = """
            -- walbridge differential test, seed \(scenario.seed): \(note)
            -- rerun the whole case: \(scenario.rerun)
            --
            -- 1. In the SOURCE database (wal_level=logical):

            """
        script += (schema.ddl + scenario.mapping.sourceDDL(scenario.schema) + workload.initialSQL(schema)).map {
            $0 + ";\n"
        }.joined()
        script +=
            "\n-- 2. In the TARGET "
            + "database\(scenario.mapping.inPlace ? " (the source database itself: in-place case)" : ""):\n"
        script += scenario.targetDDL.map { $0 + ";\n" }.joined()
        script += "\n-- 3. walbridge.yml (set source/target to those databases):\n"
        script += scenario.mapping.yaml(scenario.schema, source: "SOURCE", target: "TARGET", slot: "difftest_repro")
            .split(separator: "\n").map { "--   " + $0 }.joined(separator: "\n")
        script +=
            "\n-- 4. walbridge run --config walbridge.yml --backfill-chunk-rows \(scenario.chunkRows); "
            + "wait until walbridge status says streaming\n"
        script += "-- 5. In the SOURCE database, one session, in this order:\n\n"
        script += transactions.map(\.script).joined(separator: "\n")
        script +=
            "\n-- 6. Wait until walbridge.progress.applied_lsn in the target reaches pg_current_wal_lsn() "
            + "of the source, then compare.\n"
        return script
    }

    /// The script for printing: statements cut at 200 characters (newlines in values shown as \n), at most 5 rows of
    /// each initial INSERT, at most 120 lines.
    static func abbreviatedScript(_ script: String) -> String {
        var lines: [String] = []
        var rows = 0
        var hidden = 0
        // Lines inside a quoted value (a text with a newline) are joined to the line they continue.
        var logical: [String] = []
        var open = false
        for line in script.split(separator: "\n", omittingEmptySubsequences: false) {
            if open, let last = logical.popLast() {
                logical.append(last + "\\n" + line)
            } else {
                logical.append(String(line))
            }
            if !line.hasPrefix("--") && line.filter({ $0 == "'" }).count % 2 == 1 { open.toggle() }
        }
        for line in logical {
            if line.hasPrefix("  (") {
                rows += 1
                if rows > 5 { hidden += 1; continue }
            } else {
                if hidden > 0 { lines.append("  … \(hidden) more rows in the file") }
                rows = 0
                hidden = 0
            }
            lines.append(line.count > 200 ? String(line.prefix(200)) + "… (\(line.count) chars)" : line)
        }
        if lines.count > 120 { lines = Array(lines.prefix(120)) + ["… \(lines.count - 120) more lines in the file"] }
        return lines.joined(separator: "\n")
    }

    /// Appends to a text file (creating it), ignoring errors.
    static func append(_ text: String, to path: String) {
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { return }
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        try? handle.close()
    }

    /// Writes a text file, ignoring errors.
    static func write(_ text: String, to path: String) {
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
