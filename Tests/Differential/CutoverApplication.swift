import Foundation
import PGClient
import TestSupport

/// The application of the cut-over's long form: writers that write the schema the switch record names (legacy until a
/// cut-over switches, new after, legacy again after a rollback), moving when the fence refuses them, and what they
/// had accepted: per table, the last accepted version of every row (the model both schemas must equal).
actor CutoverApplication {
    /// Which schema a write went to.
    enum Side: String, Sendable { case legacy, new }

    /// One accepted write: its side, a WAL position taken inside its transaction (at or before its commit), and when
    /// its statements were done.
    struct Write: Sendable {
        var side: Side
        var lsn: UInt64
        var at: Date
    }

    let schema: CutoverSchema
    let legacy: ConnectionString
    let new: ConnectionString
    /// Per table, each row's key text → its values in legacy column order (key, payload, version) as text.
    private(set) var rows: [[String: [String?]]]
    /// Per table, the keys each writer owns.
    private var owned: [[Int: [String]]]
    private(set) var writes: [Write] = []
    /// Refusals by SQLSTATE; a fence's refusal is 25006.
    private(set) var refused: [String: Int] = [:]
    /// Errors no application write should meet (a duplicate key from a sequence not handed over), with the statement.
    private(set) var unexpected: [String] = []
    /// Set to end the writers at their next write (a cancelled COMMIT could commit without being counted).
    private var stopping = false
    /// Numbers the writes of every round, so keys made up from them never repeat.
    private var serial = 0

    init(
        schema: CutoverSchema, legacy: ConnectionString, new: ConnectionString, rows: [[String: [String?]]],
        writers: Int
    ) {
        self.schema = schema
        self.legacy = legacy
        self.new = new
        self.rows = rows
        owned = rows.map { table in
            var byWriter: [Int: [String]] = [:]
            for (index, key) in table.keys.sorted().enumerated() { byWriter[index % writers, default: []].append(key) }
            return byWriter
        }
    }

    /// The SELECT list of a table's rows in legacy column order, as text, on either side.
    static func rowSelect(_ table: CutoverSchema.Table, side: Side) -> String {
        let keys = table.keyColumns.map { "t.\($0)::text" }
        switch side {
        case .legacy:
            let columns = table.columns.map { "t.\(SQLText.ident($0.legacy))::text" } + ["t.version::text"]
            return "SELECT \((keys + columns).joined(separator: ", ")) FROM \(SQLText.ident(table.legacy)) AS t"
        case .new:
            let columns = table.columns.map { "\($0.split ? "e" : "t").\(SQLText.ident($0.new))::text" }
                + ["t.version::text"]
            let using = table.keyColumns.joined(separator: ", ")
            let join = table.extra.map { " LEFT JOIN \(SQLText.ident($0)) AS e USING (\(using))" } ?? ""
            return "SELECT \((keys + columns).joined(separator: ", ")) FROM \(SQLText.ident(table.main)) AS t\(join)"
        }
    }

    /// A key's text, as the model keeps it.
    static func keyText(_ values: [String?], _ table: CutoverSchema.Table) -> String {
        values.prefix(table.keyColumns.count).map { $0 ?? "NULL" }.joined(separator: "\u{1}")
    }

    /// Every row of table `index` on `side`, by key; split rows without their main row (or the reverse) are listed
    /// in `orphans`.
    static func read(_ schema: CutoverSchema, _ index: Int, side: Side, on connection: PGConnection) async throws
        -> (rows: [String: [String?]], orphans: Int)
    {
        let table = schema.tables[index]
        var rows: [String: [String?]] = [:]
        for row in try await connection.query(rowSelect(table, side: side)).rows { rows[keyText(row, table)] = row }
        guard side == .new, let extra = table.extra else { return (rows, 0) }
        let on = table.keyColumns.map { "m.\($0) = e.\($0)" }.joined(separator: " AND ")
        let key = table.keyColumns[0]
        let orphans = try await connection.query("""
            SELECT count(*) FROM \(SQLText.ident(table.main)) m FULL JOIN \(SQLText.ident(extra)) e ON \(on)
            WHERE m.\(key) IS NULL OR e.\(key) IS NULL
            """).scalar
        return (rows, Int(orphans ?? "0") ?? 0)
    }

    /// Lets writers run (again).
    func resume() { stopping = false }

    /// Ends the writers after the write each has under way.
    func stop() { stopping = true }

    /// Writes until stopped, as writer `id`: inserts, updates and deletes of its own rows, one transaction each
    /// (now and then two tables in one), on the side the switch record names.
    func write(id: Int, seed: UInt64, switchState: @escaping @Sendable () async -> Side?) async {
        var rng = SplitMix64.derived(seed, 5_000 + UInt64(id))
        var side: Side = await switchState() ?? .legacy
        var connections: [Side: PGConnection] = [:]
        while !stopping {
            do {
                if connections[side] == nil {
                    connections[side] = try await PGConnection.connect(side == .legacy ? legacy : new)
                }
                guard let connection = connections[side] else { continue }
                serial += 1
                let serial = serial
                let tables = rng.chance(0.2) && schema.tables.count > 1
                    ? rng.sample(Array(schema.tables.indices), 2) : [rng.int(0...schema.tables.count - 1)]
                var plans: [(table: Int, key: String?, statements: [String])] = []
                for table in tables { plans.append(plan(table, writer: id, serial: serial, side: side, &rng)) }
                try await connection.query("BEGIN")
                var results: [(Int, String?, [String?]?)] = []
                do {
                    for plan in plans {
                        var found: String? = plan.key
                        for statement in plan.statements {
                            let result = try await connection.query(statement)
                            if found == nil, let row = result.rows.first {
                                found = Self.keyText(row, schema.tables[plan.table])
                            }
                        }
                        let after = try await rowNow(plan.table, key: found, side: side, on: connection)
                        results.append((plan.table, found, after))
                    }
                    let lsn = try await connection.query("SELECT pg_current_wal_insert_lsn()::text").scalar ?? "0/0"
                    let done = Date()
                    try await connection.query("COMMIT")
                    for (table, key, after) in results { record(table, key: key, after: after, writer: id) }
                    writes.append(Write(side: side, lsn: LSNText.parse(lsn), at: done))
                } catch {
                    _ = try? await connection.query("ROLLBACK")
                    throw error
                }
            } catch let error as PGError {
                let state = error.sqlState ?? "?"
                refused[state, default: 0] += 1
                if state == "25006" {
                    // The fence: the switch record says where the application writes now (mid-switch: wait).
                    try? await Task.sleep(for: .milliseconds(30))
                    if let now = await switchState() { side = now }
                } else if state == "23505" || state == "23503" || state.hasPrefix("42") {
                    unexpected.append("\(side) writer \(id): \(error.description)")
                } else if error.sqlState == nil {
                    connections[side] = nil
                    try? await Task.sleep(for: .milliseconds(100))
                }
            } catch {
                connections[side] = nil
                try? await Task.sleep(for: .milliseconds(100))
            }
            if serial % 25 == id, let now = await switchState() { side = now }
            try? await Task.sleep(for: .milliseconds(rng.int(3...30)))
        }
        for connection in connections.values { await connection.close() }
    }

    /// One table's statements of a write: an insert (the key from the table's default, or made up), an update or a
    /// delete of one of the writer's rows.
    private func plan(_ index: Int, writer: Int, serial: Int, side: Side, _ rng: inout SplitMix64)
        -> (table: Int, key: String?, statements: [String])
    {
        let table = schema.tables[index]
        let mine = (owned[index][writer] ?? []).filter { rows[index][$0] != nil }
        let roll = rng.int(0...99)
        if mine.isEmpty || roll < 35 {
            var keyColumns: [String] = [], keyValues: [String] = []
            switch table.key {
            case .text: (keyColumns, keyValues) = (["id"], [SQLText.literal("w\(writer)-\(serial)-\(side)")])
            case .composite:
                keyColumns = ["region", "code"]
                keyValues = ["\(rng.int(0...6))", SQLText.literal("w\(writer)-\(serial)")]
            default: break
            }
            let values = table.columns.map { CutoverValues.literal($0.type, &rng) }
            let returning = " RETURNING " + table.keyColumns.map { "\($0)::text" }.joined(separator: ", ")
            switch side {
            case .legacy:
                let columns = keyColumns + table.columns.map { SQLText.ident($0.legacy) } + ["version"]
                let into = SQLText.ident(table.legacy)
                return (index, nil, ["INSERT INTO \(into) (\(columns.joined(separator: ", "))) VALUES ("
                    + (keyValues + values + ["1"]).joined(separator: ", ") + ")" + returning])
            case .new:
                let main = table.columns.indices.filter { !table.columns[$0].split }
                let columns = keyColumns + main.map { SQLText.ident(table.columns[$0].new) } + ["version"]
                let insert = "INSERT INTO \(SQLText.ident(table.main)) (\(columns.joined(separator: ", "))) VALUES ("
                    + (keyValues + main.map { values[$0] } + ["1"]).joined(separator: ", ") + ")"
                guard let extra = table.extra else { return (index, nil, [insert + returning]) }
                // The split row takes the key the main row got (a sequence's value), in the same statement.
                let split = table.columns.indices.filter { table.columns[$0].split }
                let keys = table.keyColumns.joined(separator: ", ")
                let splitColumns = split.map { SQLText.ident(table.columns[$0].new) }.joined(separator: ", ")
                return (index, nil, [
                    "WITH m AS (\(insert) RETURNING \(keys)) "
                        + "INSERT INTO \(SQLText.ident(extra)) (\(keys), \(splitColumns)) "
                        + "SELECT \(keys), \(split.map { values[$0] }.joined(separator: ", ")) FROM m" + returning,
                ])
            }
        }
        let key = rng.pick(mine)
        let match = keyMatch(table, key)
        if roll < 88 {
            let changed = rng.sample(Array(table.columns.indices), rng.int(1...table.columns.count))
            switch side {
            case .legacy:
                let set = changed.map { assign(table.columns[$0].legacy, table.columns[$0].type, &rng) }
                    + ["version = version + 1"]
                let name = SQLText.ident(table.legacy)
                return (index, key, ["UPDATE \(name) SET \(set.joined(separator: ", ")) WHERE \(match)"])
            case .new:
                let main = changed.filter { !table.columns[$0].split }
                    .map { assign(table.columns[$0].new, table.columns[$0].type, &rng) } + ["version = version + 1"]
                let into = SQLText.ident(table.main)
                var statements = ["UPDATE \(into) SET \(main.joined(separator: ", ")) WHERE \(match)"]
                let split = changed.filter { table.columns[$0].split }
                if let extra = table.extra, !split.isEmpty {
                    let set = split.map { assign(table.columns[$0].new, table.columns[$0].type, &rng) }
                    let splitTable = SQLText.ident(extra)
                    statements.append("UPDATE \(splitTable) SET \(set.joined(separator: ", ")) WHERE \(match)")
                }
                return (index, key, statements)
            }
        }
        switch side {
        case .legacy:
            return (index, key, ["DELETE FROM \(SQLText.ident(table.legacy)) WHERE \(match)"])
        case .new:
            let extra = table.extra.map { table.cascade ? [] : ["DELETE FROM \(SQLText.ident($0)) WHERE \(match)"] }
                ?? []
            return (index, key, extra + ["DELETE FROM \(SQLText.ident(table.main)) WHERE \(match)"])
        }
    }

    /// `column = value` with a value of `type`.
    private func assign(_ column: String, _ type: String, _ rng: inout SplitMix64) -> String {
        "\(SQLText.ident(column)) = \(CutoverValues.literal(type, &rng))"
    }

    /// `key = value` for each key column of a model key.
    private func keyMatch(_ table: CutoverSchema.Table, _ key: String) -> String {
        zip(table.keyColumns, key.split(separator: "\u{1}", omittingEmptySubsequences: false))
            .map { "\($0.0)::text = \(SQLText.literal(String($0.1)))" }.joined(separator: " AND ")
    }

    /// The row at `key` as the write's transaction sees it (nil: gone).
    private func rowNow(
        _ index: Int, key: String?, side: Side, on connection: PGConnection
    ) async throws -> [String?]? {
        guard let key else { return nil }
        let table = schema.tables[index]
        let select = Self.rowSelect(table, side: side) + " WHERE " + keyMatch(table, key)
        return try await connection.query(select).rows.first
    }

    /// Keeps a committed write's row in the model, owned by its writer.
    private func record(_ index: Int, key: String?, after: [String?]?, writer: Int) {
        guard let key else { return }
        if rows[index][key] == nil && after != nil { owned[index][writer, default: []].append(key) }
        rows[index][key] = after
    }
}

/// `X/Y` WAL positions.
enum LSNText {
    /// The position as a number (0 when it does not parse).
    static func parse(_ text: String) -> UInt64 {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16) else {
            return 0
        }
        return high << 32 | low
    }
}
