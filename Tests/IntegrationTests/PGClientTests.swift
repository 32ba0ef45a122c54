import PGClient
import Testing

@Suite("PGClient against a live server")
struct PGClientTests {
    @Test("parameters are bound, NULL and unicode survive")
    func boundParameters() async throws {
        let pg = try await PGConnection.connect(try TestClusters.target)
        let result = try await pg.query(
            "SELECT $1::text AS a, $2::int + 1 AS b, $3::text IS NULL AS c", ["héllo 'quoted' ✓", "41", nil])
        #expect(result.columns == ["a", "b", "c"])
        #expect(result.rows == [["héllo 'quoted' ✓", "42", "t"]])
        await pg.close()
        #expect(await !pg.isOpen)
    }

    @Test("server errors carry SQLSTATE, detail and the constraint")
    func serverErrors() async throws {
        let pg = try await PGConnection.connect(try TestClusters.target)
        try await pg.simpleQuery("CREATE TEMP TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)")
        let error = await #expect(throws: PGError.self) {
            try await pg.query("INSERT INTO t VALUES ($1)", ["1"])
        }
        #expect(error?.sqlState == "23505")
        #expect(error?.constraint == "t_pkey")
        #expect(error?.detail?.contains("(id)=(1)") == true)
        // The connection stays usable after an error.
        #expect(try await pg.query("SELECT count(*) FROM t").scalar == "1")
    }

    @Test("pipeline mode runs many statements in one round trip and names the failing one")
    func pipeline() async throws {
        let pg = try await PGConnection.connect(try TestClusters.target)
        try await pg.simpleQuery("CREATE TEMP TABLE p (id int PRIMARY KEY, v text)")
        let inserts = (1...2000).map { Statement("INSERT INTO p VALUES ($1, $2)", [String($0), "v\($0)"]) }
        let results = try await pg.pipeline(inserts + [Statement("SELECT count(*), max(v) FROM p")])
        #expect(results.count == 2001)
        #expect(results.last?.rows == [["2000", "v999"]])

        let failing = [
            Statement("INSERT INTO p VALUES (5000, 'ok')"),
            Statement("INSERT INTO p VALUES (1, 'duplicate')"),
            Statement("INSERT INTO p VALUES (5001, 'skipped')"),
        ]
        let error = await #expect(throws: PGError.self) { try await pg.pipeline(failing) }
        #expect(error?.statementIndex == 1)
        #expect(error?.sqlState == "23505")
        // Up to its sync a pipeline is one implicit transaction: the statement before the failure is rolled back too.
        #expect(try await pg.query("SELECT count(*) FROM p WHERE id >= 5000").scalar == "0")
    }

    @Test("COPY in and out round-trip text format, including escapes and NULL")
    func copy() async throws {
        let pg = try await PGConnection.connect(try TestClusters.target)
        try await pg.simpleQuery("CREATE TEMP TABLE c (id int, v text)")
        var data = ""
        for i in 1...10_000 { data += "\(i)\tline\\twith tab \(i)\n" }
        data += "10001\t\\N\n"
        let copied = try await pg.copyIn("COPY c FROM STDIN", data: Array(data.utf8))
        #expect(copied == 10_001)
        #expect(try await pg.query("SELECT v FROM c WHERE id = 7").scalar == "line\twith tab 7")
        #expect(try await pg.query("SELECT count(*) FROM c WHERE v IS NULL").scalar == "1")
        let out = try await pg.copyOut("COPY (SELECT id, v FROM c ORDER BY id) TO STDOUT")
        #expect(String(decoding: out, as: UTF8.self) == data)

        let error = await #expect(throws: PGError.self) {
            try await pg.copyIn("COPY c FROM STDIN", data: Array("not a number\tx\n".utf8))
        }
        #expect(error?.sqlState == "22P02")
    }

    @Test("a cancelled task stops waiting for a slow statement, and the server cancels it")
    func cancellation() async throws {
        let target = try TestClusters.target
        let pg = try await PGConnection.connect(target)
        let started = ContinuousClock.now
        let task = Task { try await pg.query("SELECT pg_sleep(30)") }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(ContinuousClock.now - started < .seconds(10))
        let other = try await PGConnection.connect(target)
        let stillRunning = try await other.query(
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'")
        #expect(stillRunning.scalar == "0")
    }

    @Test("a wrong password fails with the server's reason, and the password never appears in messages")
    func wrongPassword() async throws {
        let target = try TestClusters.target
        try await TestClusters.ensurePasswordRole(on: target)
        let wrong = try ConnectionString(target.raw + " user=walbridge_pw password=wrong-secret")
        let error = await #expect(throws: PGError.self) { try await PGConnection.connect(wrong) }
        #expect(error?.kind == .connect)
        #expect(error?.message.contains("password authentication failed") == true)
        #expect(error?.message.contains("wrong-secret") == false)
        #expect(!wrong.description.contains("wrong-secret"))
        #expect(wrong.description.contains("password=********"))
        let right = try ConnectionString(target.raw + " user=walbridge_pw password=right-secret")
        let pg = try await PGConnection.connect(right)
        #expect(try await pg.query("SELECT current_user").scalar == "walbridge_pw")
    }

    @Test("a malformed connection string is rejected without echoing it")
    func malformedConnectionString() {
        let error = #expect(throws: PGError.self) { try ConnectionString("host=x password='secret") }
        #expect(error?.message.contains("secret") == false)
        #expect(throws: PGError.self) { try ConnectionString("postgresql://user:pw@host:notaport/db?bogus=1") }
    }

    @Test("replication session: identify, temporary slot, stream start and status update")
    func replicationSession() async throws {
        try await TestClusters.withDatabase(on: try TestClusters.source) { db in
            let sql = try await PGConnection.connect(db)
            try await sql.simpleQuery("CREATE TABLE r (id int PRIMARY KEY); CREATE PUBLICATION rp FOR TABLE r")
            let repl = try await PGConnection.connect(db, replication: true)
            let system = try await repl.identifySystem()
            #expect(system.timeline == 1)
            let slot = try await repl.createReplicationSlot("client_test_slot", temporary: true)
            #expect(slot.name == "client_test_slot")
            #expect(slot.consistentPoint.contains("/"))
            try await repl.startReplication(slot: slot.name, startLSN: slot.consistentPoint, options: [
                ("proto_version", "1"), ("publication_names", "\"rp\""),
            ])
            try await sql.query("INSERT INTO r VALUES (1)")
            var frames: [[UInt8]] = []
            let arrived = await TestClusters.eventually {
                frames += (try? await repl.readCopyData(timeout: .milliseconds(200))) ?? []
                return frames.contains { $0.first == UInt8(ascii: "w") && $0.count > 25 && $0[25] == UInt8(ascii: "I") }
            }
            #expect(arrived, "an XLogData frame carrying the Insert arrives")
            // A standby status update ('r' + three LSNs + time + flag) is accepted by the server.
            try await repl.sendCopyData([UInt8(ascii: "r")] + [UInt8](repeating: 0, count: 33))
            _ = try await repl.readCopyData(timeout: .milliseconds(100))
            #expect(await repl.isOpen)
            await repl.close()
        }
    }

    @Test("EXPORT_SNAPSHOT gives a snapshot another session can adopt until the next replication command")
    func exportedSnapshot() async throws {
        try await TestClusters.withDatabase(on: try TestClusters.source) { db in
            let sql = try await PGConnection.connect(db)
            try await sql.simpleQuery("CREATE TABLE s (id int); INSERT INTO s VALUES (1)")
            let repl = try await PGConnection.connect(db, replication: true)
            let slot = try await repl.createReplicationSlot("export_test", temporary: true, snapshot: .export)
            let snapshot = try #require(slot.snapshotName)
            try await sql.query("INSERT INTO s VALUES (2)")
            let reader = try await PGConnection.connect(db)
            try await reader.simpleQuery(
                "BEGIN ISOLATION LEVEL REPEATABLE READ; SET TRANSACTION SNAPSHOT \(SQLQuoting.literal(snapshot))")
            #expect(
                try await reader.query("SELECT count(*) FROM s").scalar == "1",
                "the snapshot predates the second insert")
            try await reader.simpleQuery("COMMIT")
            #expect(try await sql.query("SELECT count(*) FROM s").scalar == "2")
        }
    }
}
