import Foundation
import PGClient
import Testing

/// The throwaway clusters that scripts/with-clusters.sh starts, and fresh databases inside them.
enum TestClusters {
    /// The source cluster (wal_level=logical), from WALBRIDGE_TEST_SOURCE.
    static var source: ConnectionString {
        get throws { try cluster("WALBRIDGE_TEST_SOURCE") }
    }

    /// The target cluster (wal_level=replica), from WALBRIDGE_TEST_TARGET.
    static var target: ConnectionString {
        get throws { try cluster("WALBRIDGE_TEST_TARGET") }
    }

    private static func cluster(_ variable: String) throws -> ConnectionString {
        guard let value = ProcessInfo.processInfo.environment[variable] else {
            Issue.record(
                "\(variable) is not set: run the tests with scripts/test.sh, which starts the PostgreSQL clusters")
            throw MissingCluster()
        }
        return try ConnectionString(value)
    }

    /// Creates an empty database on `cluster` for one test, runs `body` with its connection string, then drops it.
    static func withDatabase<R>(
        on cluster: ConnectionString, _ body: (ConnectionString) async throws -> R
    ) async throws -> R {
        let name = "wbtest_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try await PGConnection.connect(cluster)
        try await admin.query("CREATE DATABASE \(SQLQuoting.identifier(name))")
        let database = try ConnectionString(cluster.raw + " dbname=\(name)")
        do {
            let result = try await body(database)
            await drop(name, admin)
            return result
        } catch {
            await drop(name, admin)
            throw error
        }
    }

    /// Ends the database's sessions (walsenders included), drops its slots once they are free, then the database.
    private static func drop(_ name: String, _ admin: PGConnection) async {
        _ = try? await admin.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND "
                + "pid <> pg_backend_pid()", [name])
        _ = await eventually(timeout: .seconds(10)) {
            (try? await admin.query("SELECT count(*) FROM pg_replication_slots WHERE database = $1 AND active", [name])
                .scalar) == "0"
        }
        _ = try? await admin.query(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE "
                + "database = $1 AND NOT active", [name])
        _ = try? await admin.query("DROP DATABASE IF EXISTS \(SQLQuoting.identifier(name)) WITH (FORCE)")
        await admin.close()
    }

    /// Creates the role `walbridge_pw` (password `right-secret`) that pg_hba.conf makes give a password.
    static func ensurePasswordRole(on cluster: ConnectionString) async throws {
        try await PGConnection.connect(cluster).closing { admin in
            try await admin.simpleQuery("""
                DO $$ BEGIN
                  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'walbridge_pw') THEN
                    CREATE ROLE walbridge_pw LOGIN REPLICATION PASSWORD 'right-secret';
                  END IF;
                END $$
                """)
        }
    }

    /// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
    static func eventually(
        timeout: Duration = .seconds(20), _ condition: () async throws -> Bool
    ) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    /// Runs the SQL file at `file` with psql (`-X -q` and `options`) against `database`; its exit status and output.
    static func psql(_ database: ConnectionString, file: URL, options: [String] = []) throws -> (Int32, String) {
        let process = Process()
        let bin = ProcessInfo.processInfo.environment["WALBRIDGE_TEST_PGBIN"] ?? "/usr/lib/postgresql/15/bin"
        process.executableURL = URL(fileURLWithPath: bin + "/psql")
        process.arguments = [database.raw, "-X", "-q"] + options + ["-f", file.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// Thrown after recording why a test cannot run without its clusters.
struct MissingCluster: Error {
}
