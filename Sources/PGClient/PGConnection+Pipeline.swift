import CLibPQ

extension PGConnection {
    /// Sends every statement in libpq pipeline mode (one round trip for all) and returns their results in order.
    /// Without an explicit BEGIN the statements form one implicit transaction: after a failure the server
    /// skips the rest and rolls back the whole pipeline; the first failure is thrown with its `statementIndex`.
    public func pipeline(_ statements: [Statement]) throws -> [QueryResult] {
        let conn = try connection()
        guard !statements.isEmpty else { return [] }
        guard PQenterPipelineMode(conn) == 1 else { throw sendError(conn) }
        defer { PQexitPipelineMode(conn) }
        for statement in statements {
            try sendQueryParams(conn, statement)
            try flushOutgoing(conn)
        }
        guard PQpipelineSync(conn) == 1 else { throw sendError(conn) }
        try flushOutgoing(conn)

        var results: [QueryResult] = []
        results.reserveCapacity(statements.count)
        var firstError: PGError?
        for index in statements.indices {
            while let result = try nextResult(conn) {
                defer { PQclear(result) }
                switch PQresultStatus(result) {
                case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                    results.append(QueryResult(result: result))
                case PGRES_PIPELINE_ABORTED:
                    results.append(QueryResult(columns: [], rows: [], commandTag: "ABORTED"))
                default:
                    results.append(QueryResult(columns: [], rows: [], commandTag: "ERROR"))
                    if firstError == nil {
                        var error = PGError(result: result)
                        error.statementIndex = index
                        firstError = error
                    }
                }
            }
        }
        guard let sync = try nextResult(conn) else { throw lostError(conn) }
        let status = PQresultStatus(sync)
        PQclear(sync)
        guard status == PGRES_PIPELINE_SYNC else {
            throw PGError(.protocolViolation, "pipeline to \(endpoint) ended without its sync")
        }
        if let firstError { throw firstError }
        return results
    }
}
