/// An SQL statement with its parameters (`$1`, `$2`, …) sent as text; `nil` is NULL.
public struct Statement: Sendable, Equatable {
    public var sql: String
    public var parameters: [String?]

    /// A statement with its bound parameters.
    public init(_ sql: String, _ parameters: [String?] = []) {
        self.sql = sql
        self.parameters = parameters
    }
}
