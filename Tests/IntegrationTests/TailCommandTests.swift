import Foundation
import PGClient
import Testing

/// Runs the built `walbridge` binary with its output in files, for tests that check what a user sees.
final class CommandRun: @unchecked Sendable {
    let process = Process()
    let stdoutURL: URL
    let stderrURL: URL
    private let folder: URL

    /// Starts `walbridge ARGS…`.
    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("walbridge-cmd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        stdoutURL = folder.appendingPathComponent("stdout")
        stderrURL = folder.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = Self.binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
    }

    /// Stops the process if it still runs and removes its output files.
    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: folder)
    }

    /// The `walbridge` executable that `swift build` put beside the test bundle.
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("walbridge")
    }

    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Waits for the process to end (at most `timeout`) and returns its exit status, or nil if it still runs.
    func wait(timeout: Duration = .seconds(30)) async -> Int32? {
        _ = await TestClusters.eventually(timeout: timeout) { !process.isRunning }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Sends a signal to the process.
    func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }
}

@Suite("walbridge tail, the command")
struct TailCommandTests {
    @Test("a wrong password is one line that says what to fix, and the password is not printed")
    func wrongPassword() async throws {
        let source = try TestClusters.source
        try await TestClusters.ensurePasswordRole(on: source)
        let run = try CommandRun([
            "tail", "--publication", "p", "--source", source.raw + " user=walbridge_pw password=not-it"
        ])
        #expect(await run.wait() == 1)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(run.stderr.contains("password authentication failed"))
        #expect(run.stderr.contains("check the password"))
        #expect(!run.stderr.contains("not-it"))
    }

    @Test("a missing publication is named, with the statement that creates it")
    func missingPublication() async throws {
        let run = try CommandRun(["tail", "--publication", "no_such_pub", "--source", try TestClusters.source.raw])
        #expect(await run.wait() == 1)
        #expect(run.stderr.contains("publication no_such_pub does not exist"))
        #expect(run.stderr.contains("CREATE PUBLICATION"))
        #expect(run.stderr.split(separator: "\n").count == 1)
    }

    @Test("a source without wal_level=logical says how to enable it")
    func walLevelNotLogical() async throws {
        let cluster = try PrivateCluster(walLevel: "replica")
        defer { cluster.destroy() }
        let run = try CommandRun(
            ["tail", "--publication", "p"], environment: ["WALBRIDGE_SOURCE": try cluster.connection().raw])
        #expect(await run.wait() == 1)
        #expect(run.stderr.contains("wal_level is 'replica'"))
        #expect(run.stderr.contains("wal_level = logical"))
    }

    @Test("prints JSON lines as changes commit and exits 0 on SIGINT, dropping its temporary slot")
    func streamsAndStopsOnSignal() async throws {
        try await TestClusters.withDatabase(on: try TestClusters.source) { db in
            let app = try await PGConnection.connect(db)
            try await app.simpleQuery("CREATE TABLE t (id int PRIMARY KEY, v text); CREATE PUBLICATION p FOR TABLE t")
            let run = try CommandRun(["tail", "--publication", "p", "--source", db.raw])
            #expect(await TestClusters.eventually { run.stderr.contains("streaming") })
            try await app.query("INSERT INTO t VALUES (1, 'one')")
            #expect(await TestClusters.eventually { run.stdout.contains("\"op\":\"insert\"") })
            let line = try #require(run.stdout.split(separator: "\n").first)
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["table"] as? String == "public.t")
            #expect((object?["new"] as? [String: Any])?["v"] as? String == "one")
            run.signal(SIGINT)
            #expect(await run.wait(timeout: .seconds(5)) == 0)
            #expect(await TestClusters.eventually {
                    (try? await app.query(
                        "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'walbridge_tail_%' AND "
                            + "database = current_database()"
                    ).scalar) == "0"
            })
        }
    }

    @Test("--slot reads an existing slot in text form and leaves its position alone")
    func existingSlotIsNotMoved() async throws {
        try await TestClusters.withDatabase(on: try TestClusters.source) { db in
            let app = try await PGConnection.connect(db)
            try await app.simpleQuery("""
                CREATE TABLE t (id int PRIMARY KEY, v text); CREATE PUBLICATION p FOR TABLE t;
                """)
            try await app.query("SELECT pg_create_logical_replication_slot('kept', 'pgoutput')")
            let before = try await app.query(
                "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'kept'"
            ).scalar
            try await app.query("INSERT INTO t VALUES (7, 'seven')")
            for round in 1...2 {
                let run = try CommandRun([
                    "tail", "--publication", "p", "--slot", "kept", "--format", "text", "--source", db.raw
                ])
                #expect(
                    await TestClusters.eventually { run.stdout.contains("INSERT public.t id=7 v='seven'") },
                    "round \(round)")
                // Let a status update go out before stopping.
                try await Task.sleep(for: .seconds(1))
                run.signal(SIGTERM)
                #expect(await run.wait(timeout: .seconds(5)) == 0)
            }
            let after = try await app.query(
                "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'kept'"
            ).scalar
            #expect(after == before)
        }
    }
}
