import PGClient

/// A plain SQL session, for an application beside the bridge (the demo's) that reads and writes its own tables.
public struct SQLSession: Sendable {
    /// The session's connection.
    let connection: PGConnection

    /// Runs `body` on a new session to `address`, closed when `body` returns or throws.
    public static func with<R: Sendable>(
        _ address: DatabaseAddress, _ body: (SQLSession) async throws -> R
    ) async throws -> R {
        try await PGConnection.connect(address.connectionString).closing { try await body(SQLSession(connection: $0)) }
    }

    /// Runs one statement with its values bound as parameters; returns its rows, each value as text (nil for NULL).
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) async throws -> [[String?]] {
        try await connection.query(sql, parameters).rows
    }

    /// The first value of the first row of one statement.
    public func scalar(_ sql: String, _ parameters: [String?] = []) async throws -> String? {
        try await connection.query(sql, parameters).scalar
    }

    /// Runs statements in one round trip (one pipeline); returns the rows of each.
    public func pipeline(_ statements: [(sql: String, parameters: [String?])]) async throws -> [[[String?]]] {
        try await connection.pipeline(statements.map { Statement($0.sql, $0.parameters) }).map(\.rows)
    }

    /// Whether `error` is a write refused by a cut-over's fence (SQLSTATE 25006).
    public static func isFenced(_ error: Error) -> Bool {
        (error as? PGError)?.sqlState == WriteFence.sqlState
    }

    /// Runs a script of statements without parameters.
    public func execute(_ script: String) async throws {
        try await connection.simpleQuery(script)
    }
}
