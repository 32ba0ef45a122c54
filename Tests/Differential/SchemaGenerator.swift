import TestSupport

/// Draws 1–3 legacy tables: key shapes, column types, replica identity, partitioning and TOAST columns.
struct SchemaGenerator {
    /// Rows per table before the bridge starts, at most.
    var maxInitialRows: Int
    /// Workload inserts one session makes per table, roughly, for placing RANGE partition bounds.
    var expectedInsertsPerSession: Int

    static let tableNames = [
        "users", "orders", "UserAccounts", "line_items", "Events", "order", "products", "Inventory Items", "accounts"
    ]
    static let keyNames = ["id", "userId", "order", "region", "tenant", "sku", "k2", "Kind", "slot_no", "user"]
    static let plainNames = [
        "name", "eMail", "street", "city", "price", "qty", "flag", "note", "payload", "data", "tags", "nums", "born",
        "seen_at", "ip", "blob", "status", "mood", "select", "amount", "Label", "score", "active", "ref",
    ]
    static let toastNames = ["bio", "body", "Description"]

    /// The case's schema.
    func generate(_ rng: inout SplitMix64) -> Schema {
        let names = TypeNames(
            enumName: rng.pick(["mood", "\"Mood\""]), labels: ["red", "green", "Blue", "with space", "it's", "ünï"],
            domainText: rng.pick(["d_text", "\"DomText\""]), domainInt: "d_int")
        let count = rng.weighted([(1, 3), (2, 4), (3, 3)])
        let chosen = rng.sample(Self.tableNames, count)
        let tables = chosen.enumerated().map { index, name in table(index + 1, name, &rng) }
        return Schema(names: names, tables: tables)
    }

    private func table(_ number: Int, _ name: String, _ rng: inout SplitMix64) -> SourceTable {
        var columns: [Column] = []
        var used = Set<String>()
        func add(_ pool: [String], _ type: SQLType, _ role: ColumnRole, toast: Bool = false) -> Int {
            var candidate = rng.pick(pool)
            var suffix = 2
            while used.contains(candidate) {
                candidate = rng.pick(pool) + (rng.chance(0.5) ? "" : String(suffix))
                suffix += 1
            }
            used.insert(candidate)
            columns.append(Column(name: candidate, type: type, role: role, toast: toast))
            return columns.count - 1
        }
        // The key: a main column that carries uniqueness, maybe a bool and/or an enum part, maybe another column.
        let keyCount = rng.weighted([(1, 45), (2, 40), (3, 15)])
        let mainType = rng.weighted([
            (SQLType.char6, 3), (.inet, 3), (.text, 2), (.int, 2), (.bigint, 1), (.uuid, 1), (.varchar, 1), (.date, 1),
            (.timestamptz, 1), (.numeric, 1),
        ])
        let main = add(Self.keyNames, mainType, .key)
        var key = [main]
        var boolComponent: Int?
        var enumComponent: Int?
        while key.count < keyCount {
            if boolComponent == nil && rng.chance(0.45) {
                boolComponent = add(Self.keyNames, .bool, .key)
                key.append(boolComponent!)
            } else if enumComponent == nil && rng.chance(0.35) {
                enumComponent = add(Self.keyNames, .enumType, .key)
                key.append(enumComponent!)
            } else {
                key.append(add(Self.keyNames, rng.pick(SQLType.mainKeyTypes), .key))
            }
        }
        key = rng.shuffled(key)

        let partitioned = rng.chance(0.35)
        let identity: Identity = partitioned
            ? rng.weighted([(.primaryKey, 1), (.full, 1)])
            : rng.weighted([(.primaryKey, 4), (.full, 4), (.index, 3)])
        let hasPrimaryKey = identity != .index || rng.chance(0.3)
        var code: Int?
        if identity == .full && !partitioned && rng.chance(0.75) { code = add(["code"], .text, .code) }

        // Plain columns: at least one text-like and one bool or integer column, for expressions and `when`.
        _ = add(Self.plainNames, rng.pick([.text, .varchar, .char6, .domainText]), .plain)
        _ = add(Self.plainNames, rng.pick([.bool, .int, .domainInt]), .plain)
        let allTypes: [(SQLType, Int)] = [
            (.int, 3), (.bigint, 2), (.numeric, 2), (.text, 4), (.varchar, 2), (.char6, 2), (.bool, 2), (.uuid, 1),
            (.inet, 2), (.timestamptz, 2), (.date, 1), (.jsonb, 2), (.bytea, 1), (.intArray, 1), (.textArray, 1),
            (.enumType, 1), (.domainText, 1), (.domainInt, 1),
        ]
        for _ in 0..<rng.int(0...4) { _ = add(Self.plainNames, rng.weighted(allTypes), .plain) }
        let toastCount = rng.weighted([(0, 2), (1, 6), (2, 2)])
        for _ in 0..<toastCount { _ = add(Self.toastNames, .text, .plain, toast: true) }

        let initialRows = maxInitialRows == 0 ? 0 : rng.weighted([
                (0, 1), (min(3, maxInitialRows), 1), (maxInitialRows / 10, 2), (maxInitialRows / 4, 2),
                (maxInitialRows / 2, 2), (maxInitialRows, 2),
        ])
        var table = SourceTable(
            number: number, name: name, columns: columns, key: key, main: main, boolComponent: boolComponent,
            enumComponent: enumComponent, identity: identity, hasPrimaryKey: hasPrimaryKey, code: code,
            partitioning: nil, allowTruncate: rng.chance(0.25), initialRows: initialRows)
        if partitioned { table.partitioning = partitioning(table, &rng) }
        return table
    }

    /// RANGE on a growing main column, LIST on a bool or enum key part, or HASH on any key column.
    private func partitioning(_ table: SourceTable, _ rng: inout SplitMix64) -> Partitioning {
        var kinds: [(Partitioning.Kind, Int)] = [(.hash, 2)]
        if table.columns[table.main].type.isRangeable { kinds.append((.range, 4)) }
        if table.boolComponent != nil || table.enumComponent != nil { kinds.append((.list, 3)) }
        let kind = rng.weighted(kinds)
        let part = { (i: Int) in "\(table.name)_p\(i)" }
        switch kind {
        case .range:
            let type = table.columns[table.main].type
            let low = ValueGenerator.mainNumber(table, counter: table.initialRows / 2)
            let high = max(
                low + 6,
                ValueGenerator.mainNumber(table, counter: table.initialRows + 1 + expectedInsertsPerSession * 2 / 5))
            let b1 = ValueGenerator.mainKey(type, low), b2 = ValueGenerator.mainKey(type, high)
            if rng.chance(0.5) {
                return Partitioning(
                    kind: .range, column: table.main,
                    partitions: [
                        Partition(name: part(0), bound: "FOR VALUES FROM (MINVALUE) TO (\(b1))"),
                        Partition(name: part(1), bound: "FOR VALUES FROM (\(b1)) TO (\(b2))"),
                    ],
                    late: Partition(name: part(2), bound: "FOR VALUES FROM (\(b2)) TO (MAXVALUE)"))
            }
            var partitions = [Partition(name: part(0), bound: "FOR VALUES FROM (MINVALUE) TO (\(b1))")]
            if rng.chance(0.5) {
                partitions.append(Partition(name: part(1), bound: "FOR VALUES FROM (\(b1)) TO (\(b2))"))
                partitions.append(Partition(name: part(2), bound: "FOR VALUES FROM (\(b2)) TO (MAXVALUE)"))
            } else {
                partitions.append(Partition(name: part(1), bound: "FOR VALUES FROM (\(b1)) TO (MAXVALUE)"))
            }
            return Partitioning(kind: .range, column: table.main, partitions: partitions, late: nil)
        case .list:
            if let bool = table.boolComponent, table.enumComponent == nil || rng.chance(0.5) {
                return Partitioning(
                    kind: .list, column: bool,
                    partitions: [
                        Partition(name: part(0), bound: "FOR VALUES IN (true)"),
                        Partition(name: part(1), bound: "FOR VALUES IN (false)")
                    ],
                    late: nil)
            }
            let labels = ["red", "green", "Blue", "with space", "it's", "ünï"].map(SQLText.literal)
            let split = rng.int(1...4)
            var partitions = [
                Partition(name: part(0), bound: "FOR VALUES IN (\(labels[..<split].joined(separator: ", ")))")
            ]
            if rng.chance(0.5) {
                partitions.append(Partition(name: part(1), bound: "DEFAULT"))
            } else {
                partitions.append(
                    Partition(name: part(1), bound: "FOR VALUES IN (\(labels[split...].joined(separator: ", ")))"))
            }
            return Partitioning(kind: .list, column: table.enumComponent!, partitions: partitions, late: nil)
        case .hash:
            let modulus = rng.int(2...3)
            return Partitioning(
                kind: .hash, column: rng.pick(table.key),
                partitions: (0..<modulus).map {
                    Partition(name: part($0), bound: "FOR VALUES WITH (MODULUS \(modulus), REMAINDER \($0))")
                },
                late: nil)
        }
    }
}
