import PGClient

/// What the plan takes from the target catalog: the type each target column's expression is cast to, whether the
/// target is an ordinary table (named with ONLY where rows are changed), and the foreign keys among the targets
/// (`ForeignKeyOrder`). The cast type is the column's type without its modifier, a domain's base type, so an `int`
/// expression meets a `text` column as text in every key match and CASE, while the column's own modifier
/// (`varchar(3)`, `numeric(10,2)`) and a domain's checks still apply on assignment, as an INSERT's would.
enum TargetCatalog {
    /// `plan` with every target's `castTypes` and `ordinary` (a table that does not exist gets none) and the targets'
    /// foreign keys; throws `PlanProblems` when no order of writes satisfies those keys.
    static func read(
        into plan: MappingPlan, backfill: BackfillMode, on target: PGConnection
    ) async throws -> MappingPlan {
        var plan = plan
        let tables = Set(plan.sources.flatMap { $0.targets.map(\.mapping.into) })
        let problems = plan.order(by: try await ForeignKeyOrder.read(among: tables, on: target), backfill: backfill)
        if !problems.isEmpty { throw PlanProblems(problems: problems) }
        var cache: [TableName: (types: [String: String], ordinary: Bool)] = [:]
        for source in plan.sources.indices {
            for index in plan.sources[source].targets.indices {
                let table = plan.sources[source].targets[index].mapping.into
                if cache[table] == nil {
                    let kind = try await target.query(
                        "SELECT relkind FROM pg_class WHERE oid = to_regclass($1)", [table.quoted]).scalar
                    cache[table] = (try await types(of: table, on: target), kind == "r")
                }
                plan.sources[source].targets[index].castTypes = cache[table]?.types ?? [:]
                plan.sources[source].targets[index].ordinary = cache[table]?.ordinary ?? false
            }
        }
        return plan
    }

    /// Each column of `table`: its type's schema-qualified name, below every domain, without a type modifier.
    private static func types(of table: TableName, on target: PGConnection) async throws -> [String: String] {
        let rows = try await target.query("""
            WITH RECURSIVE c(name, type) AS (
                SELECT attname, atttypid FROM pg_attribute WHERE attrelid = to_regclass($1) \
            AND attnum > 0 AND NOT attisdropped
                UNION ALL
                SELECT c.name, t.typbasetype FROM c JOIN pg_type t ON t.oid = c.type WHERE t.typtype = 'd')
            SELECT c.name, quote_ident(n.nspname) || '.' || quote_ident(t.typname)
            FROM c JOIN pg_type t ON t.oid = c.type JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype <> 'd'
            """, [table.quoted]).rows
        return Dictionary(rows.map { ($0[0] ?? "", $0[1] ?? "") }, uniquingKeysWith: { first, _ in first })
    }
}
