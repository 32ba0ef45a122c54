import PGClient

/// Checks that a source database can feed logical replication, turning each problem into one line that says what to
/// fix.
public enum SourceCheck {
    /// Connects (normal or replication session), rewording the failures a retry cannot mend (a wrong
    /// password, a missing right) so they say what to fix; a server that is down, starting or full stays
    /// a `PGError`, which the bridge retries.
    static func connect(
        _ source: DatabaseAddress, replication: Bool = false, role: String = "source"
    ) async throws -> PGConnection {
        do {
            return try await PGConnection.connect(source.connectionString, replication: replication)
        } catch let error as PGError where !isPassing(error) {
            throw BridgeError.sourceNotReady(advice(for: error, connection: source.connectionString, role: role))
        }
    }

    /// Whether a failed connection may work on a later try: the server is unreachable, starting, stopping or full.
    static func isPassing(_ error: PGError) -> Bool {
        if error.kind == .timeout || error.kind == .connectionLost { return true }
        let passing = [
            "Connection refused", "could not connect", "No such file or directory", "starting up", "shutting down",
            "not yet accepting connections", "in recovery mode", "too many clients", "server closed the connection",
            "Connection reset by peer", "Connection timed out", "No route to host", "Network is unreachable",
            "timeout expired", "could not receive data", "could not send data", "SSL SYSCALL error",
        ]
        return passing.contains { error.message.contains($0) }
    }

    /// The sentence to print for a failed connection.
    static func advice(for error: PGError, connection: ConnectionString, role: String) -> String {
        let text = error.message
        let user = connection["user"] ?? "the connecting user"
        let fix: String?
        if text.contains("password authentication failed") || text.contains("no password supplied") {
            fix = "check the password for \(user) (in the connection string, PGPASSWORD or ~/.pgpass)"
        } else if text.contains("must be superuser or replication role")
            || text.contains("permission denied to start WAL sender") {
            fix = "give the role the right to replicate: ALTER ROLE \(SQLQuoting.identifier(user)) REPLICATION"
        } else if text.contains("no pg_hba.conf entry") && text.contains("replication") {
            fix =
                "allow replication connections for \(user) in pg_hba.conf (a line with database 'replication' is not "
                + "needed for logical replication, but one matching the database is)"
        } else {
            fix = nil
        }
        return "\(role): \(text)" + (fix.map { "; \($0)" } ?? "")
    }

    /// Checks `wal_level`, the replication right and that every publication exists, on a short-lived normal session.
    public static func checkForLogicalReplication(_ source: DatabaseAddress, publications: [String]) async throws {
        try await connect(source).closing { connection in
            try await check(connection, publications: publications)
        }
    }

    private static func check(_ connection: PGConnection, publications: [String]) async throws {
        let walLevel = try await connection.query("SELECT current_setting('wal_level')").scalar ?? ""
        guard walLevel == "logical" else {
            throw BridgeError.sourceNotReady(
                "source: wal_level is '\(walLevel)', and logical decoding needs 'logical'; "
                    + "run ALTER SYSTEM SET wal_level = logical (or set it in postgresql.conf) and restart PostgreSQL")
        }
        let role = try await connection.query(
            "SELECT current_user, rolsuper OR rolreplication FROM pg_roles WHERE rolname = current_user")
        if let row = role.rows.first, row[1] != "t" {
            let name = row[0] ?? "current_user"
            throw BridgeError.sourceNotReady(
                "source: role \(name) may not replicate; run ALTER ROLE \(SQLQuoting.identifier(name)) "
                    + "REPLICATION (or connect as a superuser)")
        }
        let database = try await connection.query("SELECT current_database()").scalar ?? ""
        for publication in publications {
            let found = try await connection.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [publication])
            if found.rows.isEmpty {
                throw BridgeError.sourceNotReady(
                    "source: publication \(publication) does not exist in database \(database); "
                        + "create it with CREATE PUBLICATION \(SQLQuoting.identifier(publication)) "
                        + "FOR TABLE … (or FOR ALL TABLES)")
            }
        }
    }
}
