import Foundation
import PGClient

/// The throwaway source and target clusters from scripts/with-clusters.sh, and the per-case databases in them.
struct Clusters: Sendable {
    let source: ConnectionString
    let target: ConnectionString

    /// Reads WALBRIDGE_TEST_SOURCE and WALBRIDGE_TEST_TARGET; nil (with the reason) when they are missing.
    static func fromEnvironment() -> (Clusters?, String?) {
        let environment = ProcessInfo.processInfo.environment
        guard let source = environment["WALBRIDGE_TEST_SOURCE"], let target = environment["WALBRIDGE_TEST_TARGET"]
        else {
            return (
                nil,
                "WALBRIDGE_TEST_SOURCE / WALBRIDGE_TEST_TARGET are not set: run scripts/differential.sh, "
                    + "which starts the clusters"
            )
        }
        do {
            return (Clusters(source: try ConnectionString(source), target: try ConnectionString(target)), nil)
        } catch {
            return (nil, "bad cluster connection string: \(error)")
        }
    }

    /// The connection string of database `name` on `cluster`.
    static func database(_ cluster: ConnectionString, _ name: String) -> ConnectionString {
        (try? ConnectionString(cluster.raw + " dbname=\(name)")) ?? cluster
    }

    /// Lets transactions of a few hundred rows (or a TOASTed multi-row update) be streamed before they commit.
    func prepareSource() async throws {
        try await Timeout.run(seconds: 30, "configuring the source") { [source] in
            try await PGConnection.connect(source).closing { admin in
                try await admin.simpleQuery("ALTER SYSTEM SET logical_decoding_work_mem = '64kB'")
                try await admin.simpleQuery("SELECT pg_reload_conf()")
            }
        }
    }

    /// Creates an empty database (dropping a leftover of the same name first).
    static func create(_ name: String, on cluster: ConnectionString) async throws {
        await drop(name, on: cluster)
        _ = try await Timeout.run(seconds: 60, "creating database \(name)") {
            try await PGConnection.connect(cluster).closing { admin in
                try await admin.query("CREATE DATABASE \(SQLQuoting.identifier(name))")
            }
        }
    }

    /// Ends the database's sessions (walsenders included), drops its slots once free, then the database; never throws.
    static func drop(_ name: String, on cluster: ConnectionString) async {
        _ = try? await Timeout.run(seconds: 60, "dropping database \(name)") {
            try await PGConnection.connect(cluster).closing { admin in
                guard try await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]).rows.count == 1
                else { return }
                let deadline = ContinuousClock.now + .seconds(15)
                while ContinuousClock.now < deadline {
                    _ = try? await admin.query(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND "
                            + "pid <> pg_backend_pid()", [name])
                    let active = try await admin.query(
                        "SELECT count(*) FROM pg_replication_slots WHERE database = $1 AND active", [name]
                    ).scalar
                    if active == "0" { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                _ = try? await admin.query(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE "
                        + "database = $1 AND NOT active", [name])
                _ = try? await admin.query("DROP DATABASE IF EXISTS \(SQLQuoting.identifier(name)) WITH (FORCE)")
            }
        }
    }
}

/// Runs an async operation with a deadline.
enum Timeout {
    /// Thrown when an operation does not finish in time.
    struct Expired: Error, CustomStringConvertible {
        var what: String
        var seconds: Double
        var description: String { "timed out after \(seconds) s: \(what)" }
    }

    /// `body`'s result, or `Expired` once `seconds` pass (the body's task is cancelled).
    static func run<R: Sendable>(
        seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> R
    ) async throws -> R {
        try await withThrowingTaskGroup(of: R?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else {
                throw Expired(what: what, seconds: seconds)
            }
            return result
        }
    }
}
