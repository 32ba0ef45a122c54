/// One target column and the SQL expression over the source row that fills it.
public struct ColumnMapping: Hashable, Sendable {
    /// The target column's name as the database spells it.
    public var column: String
    /// SQL over the source row's columns, as written in the file (trimmed).
    public var expression: String

    /// A column and its expression.
    public init(column: String, expression: String) {
        self.column = column
        self.expression = expression
    }
}
