import Logging
import PGClient

/// Validates a configuration against both databases before anything runs.
public enum Check {
    /// Runs every check, with `reverse:` the round trip on `roundTripSample` rows per legacy table; throws only when a
    /// database cannot be reached at all.
    public static func run(
        _ configuration: Configuration, roundTripSample: Int = RoundTrip.defaultSample
    ) async throws -> CheckReport {
        var report = CheckReport()
        do {
            try await SourceCheck.checkForLogicalReplication(configuration.source, publications: [])
        } catch let error as BridgeError {
            report.problems.append(error.description)
            return report
        }
        let (tables, sourceIdentity, notes) = try await SourceCheck.connect(configuration.source).closing { source in
            let slot = try await SlotStatus.read(configuration.slot, on: source)
            let publication = try await source.query(
                "SELECT pubviaroot FROM pg_publication WHERE pubname = $1", [configuration.publication]
            ).rows
            let tables = try await SourceSetup.describeTables(configuration, on: source)
            let partitioned = configuration.tables.map(\.source).filter { tables[$0]?.partitioned == true }
            var notes = [
                !slot.exists
                    ? "slot \(configuration.slot) does not exist yet; walbridge run creates it"
                    : "slot \(configuration.slot) exists\(slot.active ? " and is in use" : "")",
                publication.isEmpty
                    ? "publication \(configuration.publication) does not exist yet; "
                        + "walbridge run creates it for the mapped tables"
                    : "publication \(configuration.publication) exists",
            ]
            for table in partitioned {
                let change =
                    publication.first.map { $0[0] == "t" } ?? true
                    ? "" : "; walbridge run sets publish_via_partition_root = true on it"
                notes.append(
                    "\(table) is partitioned: its changes, in every partition (also ones attached later), "
                        + "are published through \(table) itself (publish_via_partition_root)\(change). "
                        + "A TRUNCATE or DETACH of a single partition is not published: "
                        + "truncate or delete through \(table)")
            }
            for table in configuration.tables.map(\.source) {
                guard let children = tables[table]?.inheritanceChildren, !children.isEmpty else { continue }
                notes.append(
                    "\(table) has tables that inherit from it (\(children.joined(separator: ", "))): "
                        + "the mapping carries only the rows of \(table) itself (ONLY \(table), "
                        + "as native logical replication does), in the backfill, the stream and verify; "
                        + "map each of them to carry its rows")
            }
            return (tables, try await SourceSetup.databaseIdentity(source), notes)
        }
        report.notes = notes
        report = try await SourceCheck.connect(configuration.target, role: "target").closing { target in
            do {
                let sameDatabase = try await SourceSetup.databaseIdentity(target) == sourceIdentity
                let built = try MappingPlan.build(configuration, sourceTables: tables, sameDatabase: sameDatabase)
                let plan = try await TargetCatalog.read(into: built, backfill: configuration.backfill, on: target)
                report.problems += try await TargetCheck.problems(plan, on: target).map(\.description)
                let copies = report.problems.isEmpty ? try await DirectCopy.plan(plan, on: target) : []
                report.plan = describe(plan, copies: copies)
                report.notes += keptRowNotes(plan) + keyChangeNotes(plan)
            } catch let problems as PlanProblems {
                report.problems += problems.problems.map(\.description)
            }
            return report
        }
        if configuration.reverse != nil {
            let roundTrip = try await RoundTrip.prove(configuration, sample: roundTripSample)
            report.roundTrip = roundTrip.summary + roundTrip.notes.map { "note: \($0)" }
            report.problems += roundTrip.problems
        }
        return report
    }

    /// Targets that keep deleted rows and read values PostgreSQL may leave out of an update (unchanged TOAST values)
    /// of a table without REPLICA IDENTITY FULL: what such a kept row may miss.
    static func keptRowNotes(_ plan: MappingPlan) -> [String] {
        plan.sources.flatMap { source -> [String] in
            guard source.info.replicaIdentity != "f" else { return [] }
            return source.targets.compactMap { target in
                guard !target.inPlace && target.keepsRows else { return nil }
                let toastable = Set(target.dependencies.joined()).sorted().map { source.stagedColumns[$0] }
                    .filter(\.mayBeToasted).map(\.name)
                guard !toastable.isEmpty else { return nil }
                let keeps = target.mapping.onDelete == .ignore
                    ? (target.mapping.onTruncate == .ignore
                        ? "deleted and truncated rows (on_delete: ignore, on_truncate: ignore)"
                        : "deleted rows (on_delete: ignore)")
                    : "truncated rows (on_truncate: ignore)"
                return "\(source.info.table) → \(target.mapping.into) "
                    + "keeps \(keeps) and reads \(toastable.joined(separator: ", ")), "
                    + "which an update leaves out when unchanged and stored out of line (TOAST): "
                    + "a row so updated and then removed before the bridge reads it back from the source keeps "
                    + "there the columns computed from those values as they were (where the update moved it to "
                    + "another row's key, as that row's; to a key the target does not hold, it is not kept); "
                    + "a key or when over them leaves the row as it was. ALTER TABLE \(source.info.table.quoted) "
                    + "REPLICA IDENTITY FULL makes every update carry the whole row"
            }
        }
    }

    /// Foreign keys between targets of different source tables that are checked at once: a parent's key change that its
    /// children follow in the same source transaction has no order of writes that satisfies them.
    static func keyChangeNotes(_ plan: MappingPlan) -> [String] {
        let sources = Dictionary(
            plan.sources.flatMap { source in source.targets.map { ($0.mapping.into, source.info.table) } },
            uniquingKeysWith: { first, _ in first })
        return plan.foreignKeys.keys.filter { key in
            !key.deferrable && key.child != key.parent && sources[key.child] != sources[key.parent]
        }.map { key in
            "\(key.name) (\(key.child) → \(key.parent)) is not DEFERRABLE: "
                + "if \(sources[key.parent].map(\.description) ?? "its source") "
                + "changes a key that rows of \(sources[key.child].map(\.description) ?? "the child's source") "
                + "follow in the same transaction (ON UPDATE CASCADE), no order of writes satisfies it and "
                + "the bridge stops there; ALTER TABLE \(key.child.quoted) ALTER CONSTRAINT \(key.constraint) "
                + "DEFERRABLE INITIALLY DEFERRED has it checked at each COMMIT"
        }
    }

    /// The plan as readable SQL: for each target, what each kind of source change runs (`copies` as `DirectCopy.plan`
    /// found them, or empty when it was not asked).
    static func describe(_ plan: MappingPlan, copies: [[DirectCopy?]]) -> [String] {
        var lines: [String] = []
        let keys = plan.foreignKeys
        if !keys.keys.isEmpty {
            let described = keys.keys.map { key in
                "\(key.child) → \(key.parent) "
                    + "(\(key.name)\(keys.deferred.contains(key) ? ", DEFERRABLE: deferred to each COMMIT" : ""))"
            }
            let byDepth = Dictionary(grouping: plan.sources.flatMap { $0.targets.map(\.mapping.into) }, by: keys.rank)
                .sorted { $0.key < $1.key }.map { Set($0.value).sorted().map(\.description).joined(separator: ", ") }
            let copied = plan.inApplyOrder(Array(plan.sources.indices)).map { plan.sources[$0].info.table.description }
            lines.append("foreign keys among the targets: \(described.joined(separator: "; "))")
            lines.append(
                "  writes go parents first (\(byDepth.joined(separator: ", then "))), deletes children first; "
                    + "the backfill copies \(copied.joined(separator: ", then "))")
        }
        for (sourceIndex, source) in plan.sources.enumerated() {
            let staged = source.stagedColumns.map { "\($0.name) \($0.typeSQL)" }.joined(separator: ", ")
            lines.append(
                "\(source.info.table) (row key: \(source.info.rowKey.joined(separator: ", ")); "
                    + "staged columns: \(staged))")
            for (targetIndex, target) in source.targets.enumerated() {
                let statements = source.statements(for: target)
                let mapping = target.mapping
                let only =
                    target.inPlace
                    ? ", in place: updates only"
                    : mapping.insert == .never ? ", insert: never: updates only the rows it holds" : ""
                let clear = mapping.onDelete == .clear ? ", on_delete: clear" : ""
                lines.append(
                    "  → \(mapping.into) (key: \(mapping.key.joined(separator: ", "))\(only)\(clear)"
                        + "\(mapping.when.map { "; when: \($0)" } ?? ""))"
                )
                lines.append("    INSERT, UPDATE: \(statements.write)")
                if !target.keepsRows, copies.indices.contains(sourceIndex),
                    let copy = copies[sourceIndex][targetIndex] {
                    lines.append("    INSERT of a key the target does not hold: \(copy.statement)")
                }
                lines.append("    UPDATE with unchanged TOAST values: \(statements.writePartial)")
                if let delete = statements.delete {
                    let kinds = [
                        mapping.onDelete == .ignore ? nil : "DELETE",
                        "UPDATE that changes the key (at the old key)",
                        mapping.when != nil ? "UPDATE that makes when false" : nil,
                    ].compactMap { $0 }
                    lines.append("    \(kinds.joined(separator: ", ")): \(delete)")
                }
                if target.inPlace || mapping.onDelete == .ignore {
                    lines.append("    DELETE: ignored (\(target.inPlace ? "in place" : "on_delete: ignore"))")
                }
                let truncate: String
                if target.inPlace {
                    truncate = "ignored (in place)"
                } else {
                    switch mapping.onTruncate {
                    case .truncate: truncate = target.truncation
                    case .ignore: truncate = "ignored"
                    case .stop: truncate = "stops the bridge"
                    }
                }
                lines.append("    TRUNCATE: \(truncate)")
            }
        }
        return lines
    }
}
