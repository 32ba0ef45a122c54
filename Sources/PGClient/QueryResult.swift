/// The rows and command tag of one statement, with every value in PostgreSQL's text format.
public struct QueryResult: Sendable, Equatable {
    /// Column names, in order.
    public var columns: [String]
    /// Rows of text values; `nil` is SQL NULL.
    public var rows: [[String?]]
    /// The command tag, e.g. `INSERT 0 3`.
    public var commandTag: String
    /// Each column's type OID, in order.
    public var columnTypes: [UInt32] = []

    /// Number of rows the command affected, from its tag (`UPDATE 5` → 5).
    public var affectedRows: Int {
        commandTag.split(separator: " ").last.flatMap { Int($0) } ?? 0
    }

    /// The first column of the first row, the common case of `SELECT count(*)`.
    public var scalar: String? {
        rows.first?.first ?? nil
    }
}
