import PGClient
import PGOutput

/// Reads current rows from the source when a change did not carry a value the bridge needs
/// (an unchanged TOAST value for a row the target does not have yet). Connects on first use.
actor SourceRows {
    private let source: DatabaseAddress
    private var connection: PGConnection?

    /// A reader of rows from `source`.
    init(source: DatabaseAddress) {
        self.source = source
    }

    /// The current staged-column values of the rows with these row keys, by key, as of a snapshot that sees the
    /// transactions `seeing`; rows that no longer exist are absent.
    func fetch(
        _ plan: SourcePlan, keys: [[TupleValue]], seeing: [UInt32] = []
    ) async throws -> [[TupleValue]: [TupleValue]] {
        guard !keys.isEmpty else { return [:] }
        let connection = try await open()
        try await SourceSnapshot.waitUntilVisible(seeing, on: connection)
        let q = SQLQuoting.identifier
        let keyColumns = plan.rowKey.map { plan.stagedColumns[$0] }
        let unnest = keyColumns.indices.map { "$\($0 + 1)::text[]" }.joined(separator: ", ")
        let aliases = keyColumns.indices.map { "k\($0)" }
        let casts = zip(aliases, keyColumns).map { "\($0)::\($1.typeSQL)" }.joined(separator: ", ")
        let sql = """
            SELECT \(plan.stagedColumns.map { q($0.name) }.joined(separator: ", ")) FROM \(plan.info.ownRows)
            WHERE (\(keyColumns.map { q($0.name) }.joined(separator: ", "))) IN (SELECT \(casts) \
            FROM unnest(\(unnest)) AS u(\(aliases.joined(separator: ", "))))
            """
        let arrays = keyColumns.indices.map { column in
            TextArray.literal(keys.map { $0[column].textString })
        }
        let result: QueryResult
        do {
            result = try await connection.query(sql, arrays)
        } catch let error as PGError where error.kind == .server {
            // A source-side failure is not the target refusing a row.
            throw BridgeError.sourceNotReady("source: reading current rows of \(plan.info.table) failed: \(error)")
        }
        // Each value in its type's output text, as the stream sends it (`::text` differs for char(n), inet, bool and
        // more), so that the rows are found again by the keys the stream gave.
        var rows: [[TupleValue]: [TupleValue]] = [:]
        for row in result.rows {
            let values = row.map { $0.map { TupleValue.text(ArraySlice($0.utf8)) } ?? .null }
            rows[plan.rowKey.map { values[$0] }] = values
        }
        return rows
    }

    /// Closes the connection, if one was opened.
    func close() async {
        await connection?.close()
        connection = nil
    }

    private func open() async throws -> PGConnection {
        if let connection, await connection.isOpen { return connection }
        let opened = try await PGConnection.connect(source.connectionString, applicationName: "walbridge fetch")
        try await opened.simpleQuery(StableOutput.settings)
        connection = opened
        return opened
    }
}
