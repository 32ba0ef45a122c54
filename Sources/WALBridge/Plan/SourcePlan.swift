import PGClient

/// How one source table's changes are staged in the target and applied to each of its targets.
public struct SourcePlan: Sendable {
    public let info: SourceTableInfo
    /// The source columns copied into the staging table: every column an expression or the row key reads.
    public let stagedColumns: [SourceColumn]
    /// Positions in `stagedColumns` of the columns that identify a row (the replica identity or primary key).
    let rowKey: [Int]
    /// The temporary staging table's name in the target session.
    let stagingTable: String
    public internal(set) var targets: [TargetPlan]

    /// Staged columns outside the row key that some target's key reads (possible with REPLICA IDENTITY FULL).
    var targetKeyColumns: [Int] {
        targets.reduce(into: Set<Int>()) { $0.formUnion($1.keyDependencies) }.subtracting(rowKey).sorted()
    }

    /// Whether a target's key reads a column outside the row key, so an update can move its row.
    func keyedOutsideRowKey(_ target: TargetPlan) -> Bool {
        !target.keyDependencies.isSubset(of: rowKey)
    }
}
