import Glibc
import TestSupport

/// Draws the initial rows and each session's transactions from the seed. Every session owns the key numbers
/// `g` with `g % 3 == session` and models only its own rows, so its statements never depend on how the sessions
/// interleave at run time: the same seed always yields the same SQL.
struct WorkloadGenerator {
    let schema: Schema
    let mapping: Mapping
    var sessions: Int
    var transactionsPerSession: Int
    /// Rows of the occasional transaction large enough to be streamed.
    var largeRows: Int
    /// Rows of an insert that follows other changes of a large transaction.
    var partRows: Int { max(20, largeRows / 3) }
    var faults: Int
    var hugeRows = 0

    /// One row the session believes exists: its key number and code number.
    struct Row {
        var g: Int
        var code: Int
    }

    /// One session's view of one table.
    struct TableModel {
        var rows: [Row] = []
        var nextCounter: Int
        var nextCode: Int
    }

    /// The whole workload.
    func generate(seed: UInt64) -> Workload {
        var initialRNG = SplitMix64.derived(seed, 100)
        var initialRows: [[InitialRow]] = []
        var models = Array(repeating: [TableModel](), count: sessions)
        for (t, table) in schema.tables.enumerated() {
            var rows: [InitialRow] = []
            for s in 0..<sessions {
                models[s].append(TableModel(nextCounter: table.initialRows + 1, nextCode: table.initialRows + 1))
            }
            for i in 0..<table.initialRows {
                let owner = i % sessions
                let g = 3 * i + owner
                rows.append(InitialRow(g: g, tuple: rowTuple(table, g: g, code: g, &initialRNG, invalid: 0)))
                models[owner][t].rows.append(Row(g: g, code: g))
            }
            initialRows.append(rows)
        }
        var lists: [[Transaction]] = []
        for s in 0..<sessions {
            var session = Session(
                generator: self, number: s, rng: SplitMix64.derived(seed, UInt64(200 + s)), models: models[s],
                opener: SplitMix64.derived(seed, UInt64(500 + s)), shapes: SplitMix64.derived(seed, UInt64(900 + s)))
            lists.append(session.transactions())
        }
        var faultRNG = SplitMix64.derived(seed, 300)
        let positions = Set((0..<faults).map { _ in faultRNG.int(1...max(1, transactionsPerSession - 2)) }).sorted()
        let plan = positions.map { position in
            Fault(
                afterTransaction: position, signal: faultRNG.chance(0.8) ? SIGKILL : SIGTERM,
                delayMilliseconds: faultRNG.int(0...300), restartMilliseconds: faultRNG.pick([0, 50, 200, 600]))
        }
        // Rows of the inheriting tables, with key numbers far past any the sessions use, from a stream of their own.
        var childRNG = SplitMix64.derived(seed, 950)
        let inheriting = schema.tables.map { table in
            table.inheritingChild == nil ? [] : (0..<max(3, table.initialRows / 3)).map { i in
                rowTuple(table, g: 600_000 + 3 * i, code: 600_000 + 3 * i, &childRNG, invalid: 0)
            }
        }
        return Workload(initialRows: initialRows, sessions: lists, faults: plan, inheritingRows: inheriting)
    }

    /// `(v1, v2, …)` for a row with key number `g` and code number `code`.
    func rowTuple(_ table: SourceTable, g: Int, code: Int, _ rng: inout SplitMix64, invalid: Double = 0.01) -> String {
        let keys = ValueGenerator.keyLiterals(table, g, schema.names)
        let values = table.columns.indices.map { index -> String in
            let column = table.columns[index]
            if let k = table.key.firstIndex(of: index) { return keys[k] }
            if column.role == .code { return ValueGenerator.code(code) }
            if column.role == .toastedIdentity { return ValueGenerator.toastedIdentity("\(g)") }
            if column.role == .reference, let reference = table.reference {
                return reference.pick(schema, offset: g % 5)
            }
            if column.toast { return ValueGenerator.toastLiteral(&rng) }
            return ValueGenerator.random(column.type, &rng, schema.names, invalid: invalid)
        }
        return "(" + values.joined(separator: ", ") + ")"
    }

    /// One session's generator state.
    struct Session {
        let generator: WorkloadGenerator
        let number: Int
        var rng: SplitMix64
        var models: [TableModel]
        /// At most one huge transaction per session.
        var hugeDone = false
        /// Draws for `opener`, apart from `rng` so the rest of the session stays as it was.
        var opener: SplitMix64
        /// Draws for shapes added later (several tables in one TRUNCATE), apart from `rng` for the same reason.
        var shapes: SplitMix64

        var schema: Schema { generator.schema }

        /// The session's transactions in order.
        mutating func transactions() -> [Transaction] {
            var list: [Transaction] = []
            let lateAt = number == 0 ? Int(Double(generator.transactionsPerSession) * 0.35) : -1
            if number == 0 { list += heldOpenStream(index: 0, "first") }
            for index in 0..<generator.transactionsPerSession {
                if index == lateAt, let late = lateDDL() {
                    list.append(
                        Transaction(
                            session: number, index: list.count, label: "create late partition", statements: late))
                }
                var (label, statements) = transaction()
                if statements.isEmpty {
                    (label, statements) = ("insert", insert(rng.int(0...(schema.tables.count - 1)), rows: 1))
                }
                list.append(Transaction(session: number, index: list.count, label: label, statements: statements))
            }
            // The same last, where no later transaction of the workload is likely to write those rows again.
            if number == 0 { list += heldOpenStream(index: list.count, "last") }
            return list
        }

        /// `CREATE TABLE … PARTITION OF …` for each table whose last RANGE partition is made during the workload.
        func lateDDL() -> [String]? {
            let statements = schema.tables.flatMap { table in
                table.partitioning?.late.map { table.partitionDDL($0) } ?? []
            }
            return statements.isEmpty ? nil : statements
        }

        /// Sometimes (from `opener`), a transaction that updates and moves rows the backfill may be about to copy, then
        /// streams (a large insert) and stays open for a while: backfill windows open while it is in progress, slices
        /// with rows to read back are written before it commits, and it commits later. Often it runs alone (see
        /// `Transaction.alone`); then sometimes every table is backfilled again while it is open, after it updated
        /// every row of one, and a few more such streamed transactions follow during that backfill, alone as well: each
        /// commits while chunks read before its commit may be on their way.
        mutating func heldOpenStream(index: Int, _ position: String) -> [Transaction] {
            let tables = schema.tables.indices.filter { models[$0].rows.count >= 2 }
            guard opener.chance(0.4), !tables.isEmpty else { return [] }
            let alone = opener.chance(0.6)
            let backfill = alone && opener.chance(0.5)
            // Rows with TOAST values the updates leave out are the ones read back from the source; that makes a bridge
            // stop streaming, so the backfill again is done on a table whose TOAST values no target reads, if any.
            // Otherwise, if any, a table with a `when` target that reads a TOAST column (a flip of every row brings
            // rows that target lacks, read back whole before the transaction commits), else one with a target value
            // that mixes a TOAST column with another one (updating that other column needs the TOAST value read back).
            let toasted = tables.filter { !schema.tables[$0].toastColumns.isEmpty }
            let unread = tables.filter { !readsToast($0) }
            let whole = tables.filter { !generator.mapping.flips[$0].isEmpty && readsToast($0, when: true) }
            let mixing = tables.filter { !mixedInputs($0).isEmpty }
            let t = opener.pick(
                backfill
                    ? (unread.isEmpty ? tables : unread)
                    : !whole.isEmpty ? whole : !mixing.isEmpty ? mixing : toasted.isEmpty ? tables : toasted)
            let main = rng
            rng = opener
            defer { opener = rng; rng = main }
            // Sometimes it first locks its table, as a TRUNCATE or ALTER TABLE would, and asks for that table alone:
            // the backfill's first chunk then waits for the commit, in a window that opened while the transaction
            // streamed.
            let locked = backfill && rng.chance(0.5)
            var statements = locked ? ["LOCK TABLE \(schema.tables[t].sql) IN ACCESS EXCLUSIVE MODE"] : []
            for _ in 0..<rng.int(2...6) { statements += update(t, toast: false) }
            let mixed = mixedInputs(t)
            for _ in 0..<(backfill || mixed.isEmpty ? 0 : rng.int(2...4)) {
                statements += update(t, column: rng.pick(mixed))
            }
            for _ in 0..<rng.int(1...2) { statements += moveKey(t) }
            statements += insert(t, rows: generator.largeRows, invalid: 0)
            // Then every row, like a migration's own `UPDATE … SET name = upper(name)`, streamed as well.
            if backfill || whole.contains(t) || rng.chance(0.5) {
                statements +=
                    allRows(t, flip: whole.contains(t) || rng.chance(0.5))
                    + insert(t, rows: generator.partRows, invalid: 0)
            }
            // A running bridge starts a requested backfill within a second.
            statements.append(
                "SELECT pg_sleep(\(backfill ? rng.pick(["2.0", "3.0"]) : rng.pick(["0.5", "1.0", "2.0"])))")
            let again = backfill ? locked ? ", locked, backfill of it again" : ", backfill again" : ""
            let label =
                "updates + moves + large insert (streamed, "
                + "held open\(alone ? ", alone" : "")\(again)), \(position)"
            var list = [Transaction(
                    session: number, index: index, label: label, statements: statements, alone: alone,
                    backfillDuring: backfill,
                backfillTable: locked ? schema.tables[t].sql : nil)]
            // (None after one that locked its table: they would write its rows again, over what that chunk got wrong.)
            for _ in 0..<(backfill && !locked ? rng.int(3...8) : 0) {
                // It sleeps first, before it writes anything (so nothing of it is streamed yet): the backfill reads and
                // places a chunk meanwhile, with no stream open. Sometimes it sleeps a moment before its commit as
                // well, so that a window opens while it is streamed and that commit falls inside it. The bridge is
                // restarted before it, when it runs after the workload (an earlier one's fallback turned streaming
                // off).
                var body = ["SELECT pg_sleep(\(rng.pick(["0.1", "0.3"])))"] + allRows(t, flip: rng.chance(0.5))
                    + insert(t, rows: generator.partRows, invalid: 0)
                if rng.chance(0.6) { body.append("SELECT pg_sleep(\(rng.pick(["0.01", "0.03", "0.1"])))") }
                list.append(Transaction(
                        session: number, index: index + list.count,
                        label: "update every row + large insert (streamed, alone, during a backfill)",
                    statements: body, alone: true, restartBefore: position == "last"))
            }
            return list
        }

        /// The columns of table `t`, other than its TOAST ones, that a target value reads together with a TOAST column.
        func mixedInputs(_ t: Int) -> [Int] {
            let toast = Set(schema.tables[t].toastColumns)
            let plain = Set(schema.tables[t].plainColumns)
            let mixes = generator.mapping.targets.filter { $0.table == t }.flatMap(\.columns).filter {
                !toast.isDisjoint(with: $0.reads)
            }
            return Array(Set(mixes.flatMap(\.reads)).intersection(plain).subtracting(toast)).sorted()
        }

        /// Whether a target of table `t` (one with a `when`, if `when`) reads one of its TOAST columns.
        func readsToast(_ t: Int, when: Bool = false) -> Bool {
            let table = schema.tables[t]
            let toast = Set(table.toastColumns)
            return generator.mapping.targets.contains { target in
                target.table == t && (!when || target.when != nil)
                    && (target.columns.contains { !toast.isDisjoint(with: $0.reads) }
                    || toast.contains { target.when?.contains(table.columns[$0].sql) ?? false })
            }
        }

        /// One transaction of 1–4 operations, or one special one.
        mutating func transaction() -> (String, [String]) {
            let t = rng.int(0...(schema.tables.count - 1))
            let table = schema.tables[t]
            let special = rng.int(0...99)
            if special < 2 && rng.chance(0.15), let huge = huge(t) {
                return ("huge insert + update every row (streamed, held open)", huge)
            }
            if special < 2 { return ("large insert (streamed)", insert(t, rows: generator.largeRows)) }
            if special < 5 && !models[t].rows.isEmpty {
                // Streamed before it commits, with updates that leave TOAST columns unchanged (rows that may need
                // reading back).
                var statements = insert(t, rows: generator.partRows)
                if !generator.mapping.flips[t].isEmpty && rng.chance(0.5) {
                    statements += ["UPDATE \(table.sql) SET \(rng.pick(generator.mapping.flips[t]))"]
                } else {
                    for _ in 0..<rng.int(2...6) { statements += update(t, toast: false) }
                }
                if rng.chance(0.5) { statements.append("SELECT pg_sleep(\(rng.pick(["0.3", "0.8", "1.5"])))") }
                return ("large insert + updates (streamed)", statements)
            }
            if special < 8 { return ("update every row", allRows(t, flip: rng.chance(0.6))) }
            if special < 10 && table.allowTruncate {
                // Now and then with the other tables that may be truncated, in one statement, restarting their
                // sequences.
                let others = schema.tables.indices.filter { $0 != t && schema.tables[$0].allowTruncate }
                let many = ShapeGenerator.Family.enabled.contains(.truncateMany)
                let together =
                    others.isEmpty || shapes.chance(0.5) || !many
                    ? [t] : [t] + shapes.sample(others, shapes.int(1...others.count))
                for index in together { models[index].rows.removeAll() }
                let restart = shapes.chance(0.3) ? " RESTART IDENTITY" : ""
                return (
                    together.count > 1 ? "truncate several" : "truncate",
                    ["TRUNCATE \(together.map { schema.tables[$0].sql }.joined(separator: ", "))\(restart)"]
                )
            }
            if special < 18 {
                let before = rng.int(0...1), after = rng.int(0...1)
                var statements: [String] = []
                var labels: [String] = []
                for _ in 0..<before { let (l, s) = operation(); labels.append(l); statements += s }
                let saved = models
                let release = rng.chance(0.3)
                let (inner, body) = operation()
                if !release { models = saved }
                statements +=
                    ["SAVEPOINT sp1"] + body + [release ? "RELEASE SAVEPOINT sp1" : "ROLLBACK TO SAVEPOINT sp1"]
                labels.append("savepoint(\(inner))\(release ? " released" : " rolled back")")
                for _ in 0..<after { let (l, s) = operation(); labels.append(l); statements += s }
                return (labels.joined(separator: " + "), statements)
            }
            var statements: [String] = []
            var labels: [String] = []
            for _ in 0..<rng.weighted([(1, 5), (2, 3), (3, 2), (4, 1)]) {
                let (label, body) = operation()
                labels.append(label)
                statements += body
            }
            return (labels.joined(separator: " + "), statements)
        }

        /// One operation on a random table.
        mutating func operation() -> (String, [String]) {
            let t = rng.int(0...(schema.tables.count - 1))
            let table = schema.tables[t]
            let rows = models[t].rows.count
            var kinds: [(String, Int)] = [
                ("insert", rows < 3 ? 30 : 14), ("update", 20), ("update toast", table.toastColumns.isEmpty ? 0 : 10),
                ("move key", 8), ("delete", 7), ("delete + move into freed key", rows >= 2 ? 6 : 0),
                ("swap keys", rows >= 2 ? 4 : 0), ("move code", table.code == nil ? 0 : 8),
                ("swap codes", table.code != nil && rows >= 2 ? 3 : 0),
                ("flip when", generator.mapping.flips[t].isEmpty ? 0 : 6),
                ("inheriting table", table.inheritingChild == nil || rows == 0 ? 0 : 5),
                ("reparent", table.reference == nil || rows == 0 ? 0 : 8),
            ]
            if rows == 0 { kinds = [("insert", 1)] }
            let kind = rng.weighted(kinds)
            switch kind {
            case "insert": return (kind, insert(t, rows: rng.weighted([(1, 6), (2, 2), (3, 1), (10, 1)])))
            case "update": return (kind, update(t, toast: false))
            case "update toast": return (kind, update(t, toast: true))
            case "move key": return (kind, moveKey(t))
            case "delete": return (kind, delete(t))
            case "delete + move into freed key": return (kind, deleteAndMoveInto(t))
            case "swap keys": return (kind, swapKeys(t))
            case "move code": return (kind, moveCode(t))
            case "swap codes": return (kind, swapCodes(t))
            case "inheriting table": return (kind, inheriting(t))
            case "reparent": return (kind, reparent(t))
            default: return (kind, flipWhen(t))
            }
        }

        // MARK: - Operations

        /// More rows than one apply slice, by generate_series, then an UPDATE of every row, held open for 2 s: the
        /// bridge applies slices (and reads rows back) while the source has not committed.
        mutating func huge(_ t: Int) -> [String]? {
            let table = schema.tables[t]
            guard generator.hugeRows > 0, !hugeDone else { return nil }
            let first = models[t].nextCounter, firstCode = models[t].nextCode
            guard let keys = ValueGenerator.keyExpressions(
                table, counter: "(\(first) + i)", session: number, schema.names)
            else { return nil }
            hugeDone = true
            models[t].nextCounter += generator.hugeRows
            models[t].nextCode += generator.hugeRows
            for i in 0..<generator.hugeRows {
                models[t].rows.append(Row(g: 3 * (first + i) + number, code: 3 * (firstCode + i) + number))
            }
            var columns = table.key.map { table.columns[$0].sql }
            var values = keys
            if let code = table.code {
                columns.append(table.columns[code].sql)
                values.append(ValueGenerator.codeExpression("(3 * (\(firstCode) + i) + \(number))"))
            }
            for member in table.columns.indices where table.columns[member].role == .toastedIdentity {
                columns.append(table.columns[member].sql)
                values.append(ValueGenerator.toastedIdentity("(3 * (\(first) + i) + \(number))"))
            }
            let plain = table.plainColumns.filter { !table.columns[$0].toast }
            let column = table.columns[rng.pick(plain)]
            columns.append(column.sql)
            values.append(ValueGenerator.random(column.type, &rng, schema.names, nulls: 0, invalid: 0))
            var statements = [
                "INSERT INTO \(table.sql) (\(columns.joined(separator: ", "))) "
                    + "SELECT \(values.joined(separator: ", ")) FROM generate_series(0, "
                    + "\(generator.hugeRows - 1)) i"
            ]
            statements += allRows(t, flip: true)
            statements.append("SELECT pg_sleep(2)")
            return statements
        }

        /// Rows of the table that inherits from `t`: one of this session's rows copied into it, or its rows changed or
        /// deleted there; none of them is a row of `t`'s mapping.
        mutating func inheriting(_ t: Int) -> [String] {
            let table = schema.tables[t]
            guard let child = table.inheritingChild.map(SQLText.qualified) else { return [] }
            let g = models[t].rows[randomRow(t)].g
            switch rng.int(0...2) {
            case 0: return ["INSERT INTO \(child) SELECT *, \(g) FROM ONLY \(table.sql) WHERE \(keyMatch(table, g))"]
            case 1:
                return [
                    "UPDATE \(child) SET difftest_extra = coalesce(difftest_extra, 0) + 1, "
                        + "\(rng.pick(plainSets(t, toast: false)))"
                ]
            default: return ["DELETE FROM \(child) WHERE difftest_extra % 2 = \(g % 2)"]
            }
        }

        /// One of this session's rows moved to another parent (often one the backfill has not copied yet), or to none.
        mutating func reparent(_ t: Int) -> [String] {
            let table = schema.tables[t]
            guard let reference = table.reference else { return [] }
            let g = models[t].rows[randomRow(t)].g
            let parent = rng.chance(0.15) ? "NULL" : reference.pick(schema, offset: rng.int(0...8))
            return [
                "UPDATE \(table.sql) SET \(table.columns[reference.column].sql) = \(parent) "
                    + "WHERE \(keyMatch(table, g))"
            ]
        }

        func keyMatch(_ table: SourceTable, _ g: Int) -> String {
            zip(table.key, ValueGenerator.keyLiterals(table, g, schema.names))
                .map { "\(table.columns[$0].sql) = \($1)" }.joined(separator: " AND ")
        }

        func keySet(_ table: SourceTable, _ g: Int) -> String {
            zip(table.key, ValueGenerator.keyLiterals(table, g, schema.names))
                .map { "\(table.columns[$0].sql) = \($1)" }.joined(separator: ", ")
        }

        mutating func freshKey(_ t: Int) -> Int {
            defer { models[t].nextCounter += 1 }
            return 3 * models[t].nextCounter + number
        }

        mutating func freshCode(_ t: Int) -> Int {
            defer { models[t].nextCode += 1 }
            return 3 * models[t].nextCode + number
        }

        mutating func randomRow(_ t: Int) -> Int {
            rng.int(0...(models[t].rows.count - 1))
        }

        /// `count` new rows; a value a domain rejects has the chance `invalid`, by default 1% in small inserts and in
        /// one large insert of five (so a large one rolls back now and then, not nearly always).
        mutating func insert(_ t: Int, rows count: Int, invalid: Double? = nil) -> [String] {
            let table = schema.tables[t]
            let rate = invalid ?? (count <= 10 || rng.chance(0.2) ? 0.01 : 0)
            var tuples: [String] = []
            for _ in 0..<count {
                let row = Row(g: freshKey(t), code: freshCode(t))
                var valueRNG = SplitMix64(seed: rng.next())
                tuples.append(generator.rowTuple(table, g: row.g, code: row.code, &valueRNG, invalid: rate))
                models[t].rows.append(row)
            }
            return [
                "INSERT INTO \(table.sql) (\(table.columns.map(\.sql).joined(separator: ", "))) "
                    + "VALUES \(tuples.joined(separator: ", "))"
            ]
        }

        /// SET clauses for 1–3 plain columns (hot ones often), never the TOAST columns unless `toast`.
        mutating func plainSets(_ t: Int, toast: Bool) -> [String] {
            let table = schema.tables[t]
            var sets: [String] = []
            if toast {
                let column = rng.pick(table.toastColumns)
                sets.append("\(table.columns[column].sql) = \(ValueGenerator.toastLiteral(&rng))")
            }
            let plain = table.plainColumns.filter { !table.columns[$0].toast }
            let hot = generator.mapping.hot[t].filter { plain.contains($0) }
            var chosen = Set<Int>()
            for _ in 0..<(toast ? rng.int(0...1) : rng.int(1...3)) {
                chosen.insert(!hot.isEmpty && rng.chance(0.6) ? rng.pick(hot) : rng.pick(plain))
            }
            for column in chosen.sorted() {
                sets.append(
                    "\(table.columns[column].sql) "
                        + "= \(ValueGenerator.random(table.columns[column].type, &rng, schema.names))")
            }
            return sets
        }

        mutating func update(_ t: Int, toast: Bool) -> [String] {
            let table = schema.tables[t]
            let row = models[t].rows[randomRow(t)]
            return [
                "UPDATE \(table.sql) SET \(plainSets(t, toast: toast).joined(separator: ", ")) "
                    + "WHERE \(keyMatch(table, row.g))"
            ]
        }

        /// An UPDATE of one column of one row.
        mutating func update(_ t: Int, column: Int) -> [String] {
            let table = schema.tables[t]
            let row = models[t].rows[randomRow(t)]
            let value = ValueGenerator.random(table.columns[column].type, &rng, schema.names, invalid: 0)
            return ["UPDATE \(table.sql) SET \(table.columns[column].sql) = \(value) WHERE \(keyMatch(table, row.g))"]
        }

        mutating func moveKey(_ t: Int) -> [String] {
            let table = schema.tables[t]
            let i = randomRow(t)
            let old = models[t].rows[i].g
            let new = freshKey(t)
            models[t].rows[i].g = new
            var sets = [keySet(table, new)]
            if rng.chance(0.3) { sets += plainSets(t, toast: false) }
            return ["UPDATE \(table.sql) SET \(sets.joined(separator: ", ")) WHERE \(keyMatch(table, old))"]
        }

        mutating func delete(_ t: Int) -> [String] {
            let table = schema.tables[t]
            let i = randomRow(t)
            let row = models[t].rows.remove(at: i)
            return ["DELETE FROM \(table.sql) WHERE \(keyMatch(table, row.g))"]
        }

        /// DELETE row A, then move row B into A's key, in one transaction.
        mutating func deleteAndMoveInto(_ t: Int) -> [String] {
            let table = schema.tables[t]
            let pair = rng.sample(Array(models[t].rows.indices), 2)
            let a = models[t].rows[pair[0]], b = models[t].rows[pair[1]]
            models[t].rows[pair[1]].g = a.g
            models[t].rows.remove(at: pair[0])
            var sets = [keySet(table, a.g)]
            if rng.chance(0.4) { sets += plainSets(t, toast: false) }
            return [
                "DELETE FROM \(table.sql) WHERE \(keyMatch(table, a.g))",
                "UPDATE \(table.sql) SET \(sets.joined(separator: ", ")) WHERE \(keyMatch(table, b.g))",
            ]
        }

        /// Rows A and B exchange keys through a temporary key.
        mutating func swapKeys(_ t: Int) -> [String] {
            let table = schema.tables[t]
            let pair = rng.sample(Array(models[t].rows.indices), 2)
            let a = models[t].rows[pair[0]].g, b = models[t].rows[pair[1]].g
            let temp = freshKey(t)
            models[t].rows[pair[0]].g = b
            models[t].rows[pair[1]].g = a
            return [
                "UPDATE \(table.sql) SET \(keySet(table, temp)) WHERE \(keyMatch(table, a))",
                "UPDATE \(table.sql) SET \(keySet(table, a)) WHERE \(keyMatch(table, b))",
                "UPDATE \(table.sql) SET \(keySet(table, b)) WHERE \(keyMatch(table, temp))",
            ]
        }

        mutating func moveCode(_ t: Int) -> [String] {
            let table = schema.tables[t]
            let i = randomRow(t)
            let code = freshCode(t)
            models[t].rows[i].code = code
            var sets = ["code = \(ValueGenerator.code(code))"]
            if rng.chance(0.4) { sets += plainSets(t, toast: false) }
            return [
                "UPDATE \(table.sql) SET \(sets.joined(separator: ", ")) "
                    + "WHERE \(keyMatch(table, models[t].rows[i].g))"
            ]
        }

        mutating func swapCodes(_ t: Int) -> [String] {
            let table = schema.tables[t]
            let pair = rng.sample(Array(models[t].rows.indices), 2)
            let a = models[t].rows[pair[0]], b = models[t].rows[pair[1]]
            let temp = freshCode(t)
            models[t].rows[pair[0]].code = b.code
            models[t].rows[pair[1]].code = a.code
            return [
                "UPDATE \(table.sql) SET code = \(ValueGenerator.code(temp)) WHERE \(keyMatch(table, a.g))",
                "UPDATE \(table.sql) SET code = \(ValueGenerator.code(a.code)) WHERE \(keyMatch(table, b.g))",
                "UPDATE \(table.sql) SET code = \(ValueGenerator.code(b.code)) WHERE \(keyMatch(table, a.g))",
            ]
        }

        /// Flips a `when` predicate on one row, without touching the TOAST columns.
        mutating func flipWhen(_ t: Int) -> [String] {
            let table = schema.tables[t]
            let row = models[t].rows[randomRow(t)]
            return ["UPDATE \(table.sql) SET \(rng.pick(generator.mapping.flips[t])) WHERE \(keyMatch(table, row.g))"]
        }

        /// An UPDATE of every row: a `when` flip, or plain columns rewritten from themselves (the TOAST columns left
        /// alone).
        mutating func allRows(_ t: Int, flip: Bool) -> [String] {
            let table = schema.tables[t]
            if flip && !generator.mapping.flips[t].isEmpty {
                return ["UPDATE \(table.sql) SET \(rng.pick(generator.mapping.flips[t]))"]
            }
            var sets: [String] = []
            for index in rng.sample(table.plainColumns.filter { !table.columns[$0].toast }, rng.int(1...2)) {
                let q = table.columns[index].sql
                switch table.columns[index].type {
                case .text, .varchar, .domainText: sets.append(rng.chance(0.5) ? "\(q) = upper(\(q))" : "\(q) = 'Main'")
                case .char6: sets.append("\(q) = upper(\(q))")
                case .int, .domainInt, .bigint: sets.append("\(q) = abs(coalesce(\(q), 0) % 1000) + 1")
                case .bool: sets.append("\(q) = NOT coalesce(\(q), false)")
                case .numeric: sets.append("\(q) = round(coalesce(\(q), 0) / 2, 2)")
                case .jsonb: sets.append("\(q) = coalesce(\(q), '{}') || '{\"u\": 1}'")
                default: sets.append("\(q) = NULL")
                }
            }
            if sets.isEmpty { return models[t].rows.isEmpty ? insert(t, rows: 1) : update(t, toast: false) }
            return ["UPDATE \(table.sql) SET \(sets.joined(separator: ", "))"]
        }
    }
}
