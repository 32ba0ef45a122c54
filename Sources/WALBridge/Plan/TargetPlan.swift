import PGClient

/// How one target table is fed from its source table's staged rows.
public struct TargetPlan: Sendable {
    public let mapping: TargetMapping
    /// The target is the source table itself (in-place expand): rows are only updated, never inserted or deleted.
    public let inPlace: Bool
    /// For each mapped column, the staged columns (by index) its expression reads.
    let dependencies: [[Int]]
    /// Staged columns read by the key expressions and by `when`.
    let keyDependencies: Set<Int>
    let whenDependencies: Set<Int>
    /// Per target column, the type its expression is cast to in the statements (`TargetColumnTypes`); empty until read.
    var castTypes: [String: String] = [:]
    /// The target is an ordinary table (not partitioned): UPDATE, DELETE and TRUNCATE name it with ONLY, so that rows
    /// of tables inheriting from it are never touched (`TargetCatalog`).
    var ordinary = false

    /// The target in UPDATE, DELETE and TRUNCATE: its own rows alone.
    var ownRows: String { (ordinary ? "ONLY " : "") + mapping.into.quoted }

    /// Rows are only updated, never inserted: in place, or with `insert: never`.
    var updatesOnly: Bool { inPlace || mapping.insert == .never }
    /// A delete (or `when` turning false, or a key moving away) removes this entry's values from the target row: in
    /// place nothing is removed; `on_delete: clear` sets the entry's columns to NULL, otherwise the row is deleted.
    var removes: Bool { !inPlace && mapping.onDelete != .ignore }

    /// The target keeps rows the source deleted or truncated, so a key new to the source may be there already.
    var keepsRows: Bool { mapping.onDelete == .ignore || mapping.onTruncate == .ignore }
}
