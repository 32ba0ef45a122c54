import PGClient

/// The whole mapping, resolved against the source catalog.
public struct MappingPlan: Sendable {
    public internal(set) var sources: [SourcePlan]
    /// Per source, the sources that insert the rows it only updates (its backfill waits for theirs).
    let inserters: [Set<Int>]
    /// The foreign keys among the targets (`TargetCatalog` reads them), and the order they ask for.
    private(set) var foreignKeys = ForeignKeyOrder.none
    /// Per source, the sources whose rows go first in a slice and a backfill: those inserting the rows it only updates,
    /// and those feeding a target that one of its targets references.
    private(set) var predecessors: [Set<Int>]

    /// Whether several source tables feed one target (`SharedTarget`).
    var sharesTargets: Bool { inserters.contains { !$0.isEmpty } }

    /// Whether a target is its source table itself (in-place expand), whose rows are only ever updated.
    var hasInPlaceTargets: Bool { sources.contains { $0.targets.contains(where: \.inPlace) } }

    /// Builds the plan; `sameDatabase` says whether source and target are one database (so `into` may name the source
    /// table).
    /// Throws `PlanProblems` listing everything wrong at once.
    public static func build(
        _ configuration: Configuration, sourceTables: [TableName: SourceTableInfo], sameDatabase: Bool
    ) throws -> MappingPlan {
        var problems: [PlanProblem] = []
        var sources: [SourcePlan] = []
        for (index, table) in configuration.tables.enumerated() {
            let location = "tables.\(table.source)"
            guard let info = sourceTables[table.source] else {
                problems.append(
                    PlanProblem(
                        location: location, message: "source table \(table.source) does not exist on the source"))
                continue
            }
            switch info.replicaIdentity {
            case "n":
                problems.append(
                    PlanProblem(
                        location: location,
                        message: "\(table.source) has REPLICA IDENTITY NOTHING, "
                            + "so its updates and deletes cannot be mapped; use ALTER TABLE \(table.source.quoted) "
                            + "REPLICA IDENTITY DEFAULT (with a primary key), USING INDEX or FULL"))
                continue
            case "d" where info.primaryKey.isEmpty:
                problems.append(
                    PlanProblem(
                        location: location,
                        message: "\(table.source) has no primary key, so PostgreSQL cannot publish its updates "
                            + "and deletes; add a primary key, or run ALTER TABLE \(table.source.quoted) "
                            + "REPLICA IDENTITY FULL (or USING INDEX a unique index)"))
                continue
            case "f" where info.primaryKey.isEmpty && configuration.backfill == .auto:
                problems.append(
                    PlanProblem(
                        location: location,
                        message: "\(table.source) has REPLICA IDENTITY FULL but no primary key, "
                            + "so its existing rows cannot be copied in key order; add a primary key, "
                            + "or use ALTER TABLE \(table.source.quoted) REPLICA IDENTITY USING INDEX with a unique "
                            + "index, or set backfill: skip"))
                continue
            default:
                break
            }
            if !info.partitionsWithOtherIdentity.isEmpty {
                let identity =
                    ["d": "DEFAULT", "i": "USING INDEX", "f": "FULL", "n": "NOTHING"][String(info.replicaIdentity)]
                    ?? "\(info.replicaIdentity)"
                problems.append(
                    PlanProblem(
                        location: location,
                        message:
                            "\(table.source) has REPLICA IDENTITY \(identity), "
                                + "but its partitions \(info.partitionsWithOtherIdentity.joined(separator: ", ")) "
                                + "have another, and PostgreSQL sends each partition's own old values; "
                                + "give each the same (ALTER TABLE partition REPLICA "
                                + "IDENTITY \(identity == "USING INDEX" ? "USING INDEX its matching index" : identity))"
                    ))
                continue
            }
            let names = Set(info.columns.map(\.name))
            var used = Set(info.rowKey)
            var targets: [(TargetMapping, [Set<String>], Set<String>, Set<String>)] = []
            for target in table.targets {
                let deps = target.columns.map { ExpressionReferences.columns(in: $0.expression, among: names) }
                let keyDeps = target.key.reduce(into: Set<String>()) { acc, key in
                    if let i = target.columns.firstIndex(where: { $0.column == key }) { acc.formUnion(deps[i]) }
                }
                let whenDeps = target.when.map { ExpressionReferences.columns(in: $0, among: names) } ?? []
                let outsideIdentity = keyDeps.subtracting(info.identityColumns)
                if !outsideIdentity.isEmpty {
                    problems.append(PlanProblem(
                        location: target.location,
                            message: "key \(target.key.joined(separator: ", ")) "
                                + "reads \(outsideIdentity.sorted().joined(separator: ", ")), "
                                + "which a delete does not carry: "
                                + "key expressions may only use the replica identity of \(table.source) "
                                + "(\(info.identityColumns.joined(separator: ", ")))"))
                }
                used.formUnion(deps.joined())
                used.formUnion(whenDeps)
                targets.append((target, deps, keyDeps, whenDeps))
            }
            let staged = info.columns.filter { used.contains($0.name) }
            for column in staged {
                guard let expression = column.generated else { continue }
                problems.append(PlanProblem(
                    location: location,
                        message: "column \(column.name) of \(table.source) "
                            + "is generated (GENERATED ALWAYS AS (\(expression)) STORED), "
                            + "and PostgreSQL does not publish generated columns to logical replication; map its "
                            + "expression over the other columns instead (for example \(column.name): \(expression))"))
            }
            let position = Dictionary(uniqueKeysWithValues: staged.enumerated().map { ($1.name, $0) })
            func positions(_ names: Set<String>) -> Set<Int> { Set(names.compactMap { position[$0] }) }
            sources.append(SourcePlan(
                info: info,
                stagedColumns: staged,
                rowKey: info.rowKey.compactMap { position[$0] },
                stagingTable: "walbridge_stage_\(index)",
                targets: targets.map { target, deps, keyDeps, whenDeps in
                    TargetPlan(
                        mapping: target,
                        // The same name in another database is a table of its own there.
                        inPlace: sameDatabase && target.into == table.source,
                        dependencies: deps.map { positions($0).sorted() },
                        keyDependencies: positions(keyDeps),
                        whenDependencies: positions(whenDeps))
                }))
        }
        let shared = SharedTarget.all(in: configuration)
        let rowKeys = sourceTables.mapValues { info in
            [info.rowKey, info.primaryKey].filter { !$0.isEmpty }.reduce(into: [[String]]()) {
                if !$0.contains($1) { $0.append($1) }
            }
        }
        problems += shared.flatMap { $0.problems(sameDatabase: sameDatabase, rowKeys: rowKeys) }
        var inserters = [Set<Int>](repeating: [], count: configuration.tables.count)
        for target in shared {
            guard let inserting = target.inserting else { continue }
            for entry in target.entries where entry.source != inserting.source {
                inserters[entry.source].insert(inserting.source)
            }
        }
        let ordered = Self.order(inserters)
        if ordered.count < configuration.tables.count {
            let cycle = configuration.tables.indices.filter { !ordered.contains($0) }.map {
                configuration.tables[$0].source.description
            }
            problems.append(
                PlanProblem(
                    location: "tables",
                    message: "\(cycle.joined(separator: ", ")) each update rows of a shared target that "
                        + "another of them inserts, so no order applies them; let one table insert the rows of "
                        + "all the targets they share"))
        }
        if !problems.isEmpty { throw PlanProblems(problems: problems) }
        return MappingPlan(sources: sources, inserters: inserters, predecessors: inserters)
    }

    /// Orders the plan by the target's foreign keys among its targets; the problems when no order can satisfy them.
    mutating func order(by keys: [ForeignKeyOrder.Key], backfill: BackfillMode) -> [PlanProblem] {
        guard let order = ForeignKeyOrder.ordering(keys) else {
            let names = keys.filter { $0.child != $0.parent }.map { "\($0.child) → \($0.parent)" }
            return [
                PlanProblem(
                    location: "tables",
                    message: "the target's foreign keys \(names.joined(separator: ", ")) "
                        + "form a cycle that no order of writes satisfies; make one of them DEFERRABLE (ALTER TABLE "
                        + "child ALTER CONSTRAINT name DEFERRABLE), so it is checked at each batch's COMMIT")
            ]
        }
        foreignKeys = order
        // The keys that close a cycle hold only at COMMIT, and the backfill copies one source table at a time.
        let sourceOf = Dictionary(
            sources.flatMap { source in source.targets.map { ($0.mapping.into, source.info.table) } },
            uniquingKeysWith: { first, _ in first })
        let across = order.deferred.filter { key in
            key.child != key.parent && !order.ordered.contains(key) && sourceOf[key.child] != sourceOf[key.parent]
        }
        if backfill == .auto && !across.isEmpty {
            let names = across.map { "\($0.child) → \($0.parent) (\($0.name))" }
            return [
                PlanProblem(
                    location: "tables",
                    message: "the target's foreign keys form a cycle that \(names.joined(separator: ", ")) closes; "
                        + "the bridge checks it at each COMMIT, but the backfill copies one source table at a time, "
                        + "so a row that references one not copied yet would be refused. Set backfill: "
                        + "skip and copy those tables yourself, or drop that key until the backfill is done "
                        + "and add it again after")
            ]
        }
        let ordered = Set(order.ordered.map { [$0.child, $0.parent] })
        predecessors = inserters
        for (child, source) in sources.enumerated() {
            for (parent, other) in sources.enumerated() where parent != child {
                let references = source.targets.contains { mine in
                    other.targets.contains { ordered.contains([mine.mapping.into, $0.mapping.into]) }
                }
                if references { predecessors[child].insert(parent) }
            }
        }
        if Self.order(predecessors).count < sources.count {
            let tables = sources.map(\.info.table.description).joined(separator: ", ")
            return [
                PlanProblem(
                    location: "tables",
                    message: "the target's foreign keys ask for some of \(tables) "
                        + "to be copied before another and that one before it (a source table feeds both a "
                        + "parent and a child of another's target); map those targets from one source table, "
                        + "or make a foreign key between them DEFERRABLE")
            ]
        }
        return []
    }

    /// The sources of `order` (a slice's, as they came), each moved behind its predecessors: those that insert the rows
    /// it
    /// only updates, so that a row inserted and updated by another source in one slice gets both, and those feeding the
    /// parents of its targets.
    func inApplyOrder(_ order: [Int]) -> [Int] {
        var result: [Int] = []
        func place(_ source: Int) {
            guard !result.contains(source) else { return }
            for inserter in predecessors[source].sorted() where order.contains(inserter) { place(inserter) }
            result.append(source)
        }
        order.forEach(place)
        return result
    }

    /// The targets of `source` (indexes in its plan) in groups that one session writes together, parents first: targets
    /// joined by a foreign key, whose rows another session could not see before it commits.
    func writeGroups(of source: Int) -> [[Int]] {
        let targets = sources[source].targets
        var groups: [[Int]] = []
        for index in targets.indices {
            let table = targets[index].mapping.into
            let linked = groups.indices.filter { group in
                groups[group].contains { other in
                    let pair = [table, targets[other].mapping.into]
                    return foreignKeys.keys.contains { [$0.child, $0.parent] == pair || [$0.parent, $0.child] == pair }
                }
            }
            let merged = linked.flatMap { groups[$0] } + [index]
            groups = groups.indices.filter { !linked.contains($0) }.map { groups[$0] } + [merged]
        }
        return groups.map { group in
            group.sorted { foreignKeys.rank(targets[$0].mapping.into) < foreignKeys.rank(targets[$1].mapping.into) }
        }
    }

    /// The sources in file order, each after those in `inserters` (a stable topological order); a cycle's sources are
    /// left out.
    private static func order(_ inserters: [Set<Int>]) -> [Int] {
        var order: [Int] = []
        while order.count < inserters.count {
            guard let next = inserters.indices.first(where: {
                !order.contains($0) && inserters[$0].isSubset(of: order)
            }) else { break }
            order.append(next)
        }
        return order
    }
}
