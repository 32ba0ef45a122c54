import PGClient
import PGOutput

/// A target that new rows can be copied straight into, without the staging table: each of its columns is a source
/// column of the same type, and its `when`, if it has one, reads only such columns, so that COPY's own WHERE (over
/// the target's columns) decides it exactly as the staged statements would.
struct DirectCopy: CopyOnlyTarget {
    /// `COPY target (columns) FROM STDIN [WHERE when]`.
    let statement: String
    /// For each target column, the position of its source column among the staged columns.
    let positions: [Int]
    /// For a target with a `when`, which a copy cannot use to remove rows it holds already: a query whether the target
    /// holds any key between two row keys (bound as text), when its key is the source's row key of types that sort the
    /// same on both sides (no collation); nil for a target without `when`.
    let probe: Probe?

    /// Whether a target with a `when` holds rows in a key range.
    enum Probe: Sendable, Equatable {
        case range(String)
        /// The key is not the row key, or sorts by a collation: any key may be held.
        case unknown

        /// The probe of a target with a `when` whose key columns take the staged columns at `keyPositions`, among
        /// target column `types` (and the `collated` ones).
        init(
            _ mapping: TargetMapping, keyPositions: [Int], of source: SourcePlan, types: [String: String],
            collated: Set<String>
        ) {
            guard keyPositions == source.rowKey, collated.isDisjoint(with: mapping.key),
                mapping.key.indices.allSatisfy({
                    types[mapping.key[$0]] == source.stagedColumns[keyPositions[$0]].typeSQL
                })
            else {
                self = .unknown
                return
            }
            let keys = mapping.key.map(SQLQuoting.identifier).joined(separator: ", ")
            let bound = { (offset: Int) in
                mapping.key.indices.map { "$\($0 + offset + 1)::\(types[mapping.key[$0]] ?? "text")" }
                    .joined(separator: ", ")
            }
            self = .range(
                "SELECT EXISTS (SELECT 1 FROM \(mapping.into.quoted) WHERE (\(keys)) >= (\(bound(0))) AND (\(keys)) "
                    + "<= (\(bound(mapping.key.count))))")
        }

        /// Whether COPY alone writes `rows` (a backfill chunk, in row-key order) as the staged statements would: true
        /// unless the target may hold one of their keys, whose row a false `when` must remove.
        func allowsCopy(of rows: [[TupleValue]], source: SourcePlan, on target: PGConnection) async throws -> Bool {
            switch self {
            case .unknown: return false
            case .range(let query):
                guard let first = rows.first, let last = rows.last else { return true }
                let bounds = (source.rowKey.map { first[$0].textString } + source.rowKey.map { last[$0].textString })
                guard !bounds.contains(nil) else { return false }
                return try await target.query(query, bounds).scalar == "f"
            }
        }
    }

    /// Each target's direct copy, per source table; nil where the target needs the staging table. Each statement is
    /// tried once on `target` with no rows (a `when` COPY cannot take is found here, not on the first rows).
    static func plan(_ plan: MappingPlan, on target: PGConnection) async throws -> [[DirectCopy?]] {
        var copies: [[DirectCopy?]] = []
        for source in plan.sources { copies.append(try await self.plan(source, on: target)) }
        return copies
    }

    /// The direct copy of each of one source table's targets.
    static func plan(_ source: SourcePlan, on target: PGConnection) async throws -> [DirectCopy?] {
        var perTarget: [DirectCopy?] = []
        for mapped in source.targets { perTarget.append(try await direct(mapped, of: source, on: target)) }
        return perTarget
    }

    /// The position of the first staged column that `expression` names alone (plain or quoted) and `accept` takes.
    static func stagedPosition(
        of expression: String, in source: SourcePlan, where accept: (SourceColumn) -> Bool = { _ in true }
    ) -> Int? {
        let name = expression.trimmingCharacters(in: .whitespaces)
        return source.stagedColumns.firstIndex {
            ($0.name == name || SQLQuoting.identifier($0.name) == name) && accept($0)
        }
    }

    private static func direct(
        _ mapped: TargetPlan, of source: SourcePlan, on target: PGConnection
    ) async throws -> DirectCopy? {
        guard !mapped.updatesOnly else { return nil }
        let mapping = mapped.mapping
        let columns = try await TargetCheck.columns(of: mapping.into, on: target)
        let types = columns.mapValues(\.type)
        let collated = Set(columns.filter(\.value.collated).keys)
        var positions: [Int] = []
        var renamed: [String: String] = [:]
        for column in mapping.columns {
            guard let position = stagedPosition(
                of: column.expression, in: source, where: { types[column.column] == $0.typeSQL })
            else { return nil }
            positions.append(position)
            renamed[source.stagedColumns[position].name] = column.column
        }
        let columnList = mapping.columns.map { SQLQuoting.identifier($0.column) }.joined(separator: ", ")
        var statement = "COPY \(mapping.into.quoted) (\(columnList)) FROM STDIN"
        var probe: Probe?
        if let when = mapping.when {
            let names = Set(source.info.columns.map(\.name))
            guard let condition = ExpressionReferences.renaming(when, renamed, among: names, taken: Set(types.keys))
            else { return nil }
            statement += " WHERE \(condition)"
            // COPY's WHERE takes no subquery, for one; the same statement with no rows says whether it takes this one.
            try await target.simpleQuery("BEGIN")
            do {
                _ = try await target.copyIn(statement, data: [])
                try await target.simpleQuery("ROLLBACK")
            } catch let error as PGError where error.kind == .server {
                try await target.simpleQuery("ROLLBACK")
                return nil
            }
            let keyPositions = mapping.key.compactMap { key in
                mapping.columns.firstIndex { $0.column == key }.map { positions[$0] }
            }
            probe = Probe(mapping, keyPositions: keyPositions, of: source, types: types, collated: collated)
        }
        return DirectCopy(statement: statement, positions: positions, probe: probe)
    }

    /// COPY text data holding the values of `rows` (in staged-column order) for this target.
    func data(_ rows: [[TupleValue]]) -> [UInt8] {
        StagingCopy.encode(rows, columns: positions)
    }
}
