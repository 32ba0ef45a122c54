/// A source table and the targets it feeds.
public struct TableMapping: Hashable, Sendable {
    public var source: TableName
    /// In file order.
    public var targets: [TargetMapping]

    /// A source table and its targets.
    public init(source: TableName, targets: [TargetMapping]) {
        self.source = source
        self.targets = targets
    }
}
