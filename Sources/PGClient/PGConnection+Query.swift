import CLibPQ

extension PGConnection {
    /// Runs one statement with bound text parameters (`$1`, `$2`, …) and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> QueryResult {
        let conn = try connection()
        try sendQueryParams(conn, Statement(sql, parameters))
        try flushOutgoing(conn)
        guard let result = try collectResults(conn).last else {
            throw PGError(.protocolViolation, "no result for statement")
        }
        return result
    }

    /// Runs one statement from a `Statement` value.
    @discardableResult
    public func query(_ statement: Statement) throws -> QueryResult {
        try query(statement.sql, statement.parameters)
    }

    /// Runs SQL text that may hold several statements, without parameters (the only form a replication session
    /// accepts).
    @discardableResult
    public func simpleQuery(_ sql: String) throws -> [QueryResult] {
        let conn = try connection()
        guard PQsendQuery(conn, sql) == 1 else { throw sendError(conn) }
        try flushOutgoing(conn)
        return try collectResults(conn)
    }

    /// Queues one parameterised statement on the wire.
    func sendQueryParams(_ conn: OpaquePointer, _ statement: Statement) throws {
        let sent = withCStringArray(statement.parameters) { values in
            PQsendQueryParams(conn, statement.sql, Int32(statement.parameters.count), nil, values, nil, nil, 0)
        }
        guard sent == 1 else { throw sendError(conn) }
    }
}
