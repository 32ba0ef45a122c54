import PGClient

/// The foreign keys among the target tables of a plan, read from the target catalog, and the order they ask for:
/// parents before their children for inserts and upserts, children before their parents for deletes.
struct ForeignKeyOrder: Sendable {
    /// One foreign key from `child` to `parent`, both target tables of the plan.
    struct Key: Sendable, Hashable {
        /// The constraint's schema-qualified, quoted name, as SET CONSTRAINTS takes it.
        let name: String
        /// The constraint's own name, quoted, as ALTER TABLE takes it.
        let constraint: String
        let child: TableName
        let parent: TableName
        let deferrable: Bool
    }

    let keys: [Key]
    /// The keys between two tables that the order follows: every one, or where they form a cycle the immediate ones.
    let ordered: [Key]
    /// Each target table's depth: 0 for one that references no other target, else one more than its deepest parent.
    let ranks: [TableName: Int]
    /// DEFERRABLE keys: each target transaction defers them to its COMMIT (so a slice ending between a parent's delete
    /// and its cascaded children's, say, does not matter), and a cycle of them is left out of the order.
    let deferred: [Key]

    /// No foreign keys: every target has rank 0.
    static let none = ForeignKeyOrder(keys: [], ordered: [], ranks: [:], deferred: [])

    /// The order of `keys`; a cycle of keys (not a table referencing itself) is left to its DEFERRABLE keys, checked
    /// at COMMIT, and one without such a key is nil.
    static func ordering(_ keys: [Key]) -> ForeignKeyOrder? {
        let deferred = keys.filter(\.deferrable)
        let between = keys.filter { $0.child != $0.parent }
        let immediate = between.filter { !$0.deferrable }
        if let ranks = ranks(between) {
            return ForeignKeyOrder(keys: keys, ordered: between, ranks: ranks, deferred: deferred)
        }
        guard let ranks = ranks(immediate) else { return nil }
        return ForeignKeyOrder(keys: keys, ordered: immediate, ranks: ranks, deferred: deferred)
    }

    /// The depth of every table in `keys`, or nil when they form a cycle.
    private static func ranks(_ keys: [Key]) -> [TableName: Int]? {
        let tables = Set(keys.flatMap { [$0.child, $0.parent] })
        var ranks: [TableName: Int] = [:]
        var left = tables
        while !left.isEmpty {
            let ready = left.filter { table in keys.allSatisfy { $0.child != table || ranks[$0.parent] != nil } }
            guard !ready.isEmpty else { return nil }
            for table in ready {
                ranks[table] = keys.filter { $0.child == table }.map { ranks[$0.parent]! + 1 }.max() ?? 0
                left.remove(table)
            }
        }
        return ranks
    }

    /// The depth of `table` (0 when no key among the targets involves it).
    func rank(_ table: TableName) -> Int {
        ranks[table] ?? 0
    }

    /// What each transaction runs first so the deferred keys are checked at its COMMIT; nil when none is deferred.
    var deferral: Statement? {
        deferred.isEmpty ? nil : Statement("SET CONSTRAINTS \(deferred.map(\.name).joined(separator: ", ")) DEFERRED")
    }

    /// The same in ordered replay: the deferred keys the order follows are checked at each statement (a refusal then
    /// shows at its change, which waits for the end of its source transaction), those that close a cycle at COMMIT.
    var replayDeferral: [Statement] {
        let immediate = deferred.filter { ordered.contains($0) }.map(\.name)
        let cycle = deferred.filter { !ordered.contains($0) }.map(\.name)
        return (immediate.isEmpty ? [] : [Statement("SET CONSTRAINTS \(immediate.joined(separator: ", ")) IMMEDIATE")])
            + (cycle.isEmpty ? [] : [Statement("SET CONSTRAINTS \(cycle.joined(separator: ", ")) DEFERRED")])
    }

    /// The keys in `tables` (the plan's targets) as the target catalog holds them.
    static func read(among tables: Set<TableName>, on target: PGConnection) async throws -> [Key] {
        let rows = try await target.query("""
            SELECT quote_ident(n.nspname) || '.' || quote_ident(c.conname), cn.nspname, \
            cc.relname, pn.nspname, pc.relname,
                   c.condeferrable, quote_ident(c.conname)
            FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
            JOIN pg_class cc ON cc.oid = c.conrelid JOIN pg_namespace cn ON cn.oid = cc.relnamespace
            JOIN pg_class pc ON pc.oid = c.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
            WHERE c.contype = 'f' AND c.conrelid = ANY (SELECT to_regclass(t) FROM unnest($1::text[]) t)
            ORDER BY 1
            """, [TextArray.literal(tables.sorted().map(\.quoted))]).rows
        return rows.compactMap { row in
            let child = TableName(schema: row[1] ?? "", name: row[2] ?? "")
            let parent = TableName(schema: row[3] ?? "", name: row[4] ?? "")
            guard tables.contains(child), tables.contains(parent) else { return nil }
            return Key(
                name: row[0] ?? "", constraint: row[6] ?? "", child: child, parent: parent, deferrable: row[5] == "t")
        }
    }
}
