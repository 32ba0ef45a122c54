/// One row that differs between the target and the mapping evaluated over the source.
public struct Mismatch: Sendable, Equatable, CustomStringConvertible {
    /// How the row differs.
    public enum Kind: String, Sendable {
        /// The mapping over the source gives the row; the target lacks it.
        case missing
        /// The target holds a row the mapping over the source does not give.
        case extra
        /// Both hold the row; some columns differ.
        case changed
    }

    public var table: TableName
    /// The key columns and their values, as `(id)=(17)`.
    public var key: String
    public var kind: Kind
    /// For `changed`: each differing column with the source's and the target's value (nil for NULL), whole; the
    /// description cuts long ones (``VerifyValue``).
    public var columns: [ColumnDifference]

    /// One column of a changed row.
    public struct ColumnDifference: Sendable, Equatable {
        public var column: String
        public var source: String?
        public var target: String?

        public init(column: String, source: String?, target: String?) {
            self.column = column
            self.source = source
            self.target = target
        }
    }

    public var description: String {
        switch kind {
        case .missing: return "\(table) \(key): missing in the target"
        case .extra: return "\(table) \(key): in the target only (the mapping over the source gives no such row)"
        case .changed:
            let columns = columns.map {
                "\($0.column): source \(Self.show($0.source)), target \(Self.show($0.target))"
                    + VerifyValue.firstDifference($0.source, $0.target)
            }
            return "\(table) \(key): \(columns.joined(separator: "; "))"
        }
    }

    private static func show(_ value: String?) -> String {
        VerifyValue.shown(value)
    }
}
