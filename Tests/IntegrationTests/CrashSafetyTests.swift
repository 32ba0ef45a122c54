import Foundation
import PGClient
import Testing
import WALBridge

@Suite("walbridge run survives SIGKILL")
struct CrashSafetyTests {
    /// Mixed multi-statement transactions on users and products, a tenth of them rolled back.
    static let churn = """
        CREATE PROCEDURE churn(n int, seed float8) LANGUAGE plpgsql AS $$
        DECLARE i int;
        BEGIN
          PERFORM setseed(seed);
          FOR i IN 1..n LOOP
            INSERT INTO users (id, name, address_street, address_city)
              VALUES (1 + floor(random() * 2000), 'n' || i, CASE WHEN random() < 0.5 THEN 'street ' || i END, 'city')
              ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, address_street = EXCLUDED.address_street;
            UPDATE users SET name = name || '+' WHERE id = 1 + floor(random() * 2000);
            IF random() < 0.3 THEN DELETE FROM users WHERE id = 1 + floor(random() * 2000); END IF;
            INSERT INTO products (id, name, price) VALUES (1 + floor(random() * 500), \
        'p' || i, floor(random() * 100000))
              ON CONFLICT (id) DO UPDATE SET price = EXCLUDED.price;
            IF random() < 0.1 THEN ROLLBACK; ELSE COMMIT; END IF;
          END LOOP;
        END $$;
        """

    @Test("killed with SIGKILL at 20 random moments while applying a backlog, it ends exactly equal to the oracle")
    func killTwentyTimes() async throws {
        try await SeedMigration.with { seed in
            try await seed.onSourceScript(Self.churn)
            let config = try seed.writeConfigFile()
            defer { config.remove() }
            func startBridge() throws -> CommandRun {
                try CommandRun(["run", "--config", config.path, "--quiet"], environment: config.environment)
            }
            // First run creates the slot; then a backlog queues while the bridge is down.
            var bridge = try startBridge()
            #expect(await TestClusters.eventually {
                (try? await PGConnection.connect(seed.source).closing {
                        try await $0.query(
                            "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", [seed.configuration.slot]
                        ).scalar
                }) == "1"
            })
            bridge.signal(SIGKILL)
            _ = await bridge.wait()
            try await seed.onSource("CALL churn(3000, 0.42)")

            // A writer keeps going while the bridge is killed and restarted.
            let writer = Task {
                try await PGConnection.connect(seed.source).closing { app in
                    for round in 0..<40 { try await app.query("CALL churn(100, $1)", [String(Double(round) / 100)]) }
                }
            }
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<20 {
                bridge = try startBridge()
                try await Task.sleep(for: .milliseconds(Int.random(in: 150...900, using: &generator)))
                bridge.signal(SIGKILL)
                #expect(await bridge.wait() == SIGKILL, "the bridge was still running when killed: \(bridge.stderr)")
            }
            try await writer.value
            bridge = try startBridge()
            #expect(
                try await seed.converges(timeout: .seconds(60)), "after 20 kills the target equals the oracle exactly")
            let differences = try await seed.differences()
            #expect(differences.isEmpty, "\(differences)")
            bridge.signal(SIGTERM)
            #expect(await bridge.wait() == 0)
        }
    }
}

extension CrashSafetyTests {
    @Test("""
        killed with SIGKILL at random moments of a backfill, of streaming and of streamed transactions \
        (WALBRIDGE_CRASH_KILLS, default 12), it ends equal to the oracle
        """)
    func killDuringBackfillAndStreams() async throws {
        let kills = Int(ProcessInfo.processInfo.environment["WALBRIDGE_CRASH_KILLS"] ?? "") ?? 12
        try await SeedMigration.with { seed in
            try await seed.onSourceScript(Self.churn)
            try await seed.streamLargeTransactions()
            try await seed.onSourceScript("""
                INSERT INTO users (id, name, address_street, bio)
                  SELECT g, 'u' || g, CASE WHEN g % 3 = 0 THEN 'street ' || g END, \
                CASE WHEN g % 40 = 0 THEN repeat('toast ', 3000) END
                  FROM generate_series(1, 30000) g;
                INSERT INTO products (id, name, price) SELECT g, 'p' || g, g FROM generate_series(1, 3000) g;
                """)
            let config = try seed.writeConfigFile()
            defer { config.remove() }
            func startBridge() throws -> CommandRun {
                try CommandRun(
                    ["run", "--config", config.path, "--quiet", "--backfill-chunk-rows", "700"],
                    environment: config.environment)
            }
            let stop = Flag()
            // Small transactions, and large ones (hundreds of rows, TOAST values left unchanged) that are streamed.
            let writer = Task {
                try await PGConnection.connect(seed.source).closing { app in
                    var round = 0
                    while await !stop.isSet {
                        round += 1
                        try await app.query("CALL churn(40, $1)", [String(Double(round % 100) / 100)])
                        try await app.query(
                            "UPDATE users SET name = name || '.', address_street = CASE WHEN id % 2 = 0 THEN NULL ELSE "
                                + "'moved' END WHERE id % 97 = $1::int", [String(round % 97)])
                        try await app.query(
                            "UPDATE users SET id = id + 40000 WHERE id % 389 = $1::int AND id < 40000",
                            [String(round % 389)])
                    }
                }
            }
            var generator = SystemRandomNumberGenerator()
            var bridge = try startBridge()
            for _ in 0..<kills {
                try await Task.sleep(for: .milliseconds(Int.random(in: 200...1500, using: &generator)))
                bridge.signal(SIGKILL)
                #expect(await bridge.wait() == SIGKILL, "the bridge was still running when killed: \(bridge.stderr)")
                bridge = try startBridge()
            }
            await stop.set()
            try await writer.value
            #expect(await seed.backfillDone(timeout: .seconds(180)), "the backfill finishes after \(kills) kills")
            #expect(
                try await seed.converges(timeout: .seconds(120)),
                "after \(kills) kills the target equals the oracle exactly")
            let differences = try await seed.differences()
            #expect(differences.isEmpty, "\(differences)")
            bridge.signal(SIGTERM)
            #expect(await bridge.wait() == 0)
        }
    }
}

@Suite("walbridge run survives server restarts")
struct RestartTests {
    /// What every session on the servers is doing: the evidence when the bridge stalls.
    static func activity(_ servers: ConnectionString...) async -> String {
        var lines: [String] = []
        for server in servers {
            let rows = try? await PGConnection.connect(server).closing {
                try await $0.query("""
                    SELECT concat_ws(' | ', pid, application_name, backend_type, state, wait_event_type, wait_event,
                                     left(query, 160), now() - query_start) \
                    FROM pg_stat_activity WHERE pid <> pg_backend_pid()
                    """).rows
            }
            lines.append("\(server.raw): " + (rows ?? []).compactMap { $0[0] }.joined(separator: "; "))
        }
        return lines.joined(separator: "\n")
    }

    @Test("a source restart and a target restart during streaming lose nothing")
    func restarts() async throws {
        let sourceCluster = try PrivateCluster(walLevel: "logical")
        defer { sourceCluster.destroy() }
        let targetCluster = try PrivateCluster(walLevel: "replica")
        defer { targetCluster.destroy() }
        let source = try sourceCluster.connection()
        let target = try targetCluster.connection()
        try await PGConnection.connect(source).closing { try await $0.simpleQuery(SeedMigration.legacySchema) }
        try await PGConnection.connect(target).closing { try await $0.simpleQuery(SeedMigration.newSchema) }
        let configuration = try Configuration.parse(
            yaml: try SeedMigration.configurationText(slot: "restart_test"), file: "walbridge.yml",
            environment: ["WALBRIDGE_SOURCE": source.raw, "WALBRIDGE_TARGET": target.raw])
        let seed = SeedMigration(source: source, target: target, configuration: configuration)
        let bridge = try await seed.start()

        try await seed.onSource("INSERT INTO users (id, name) SELECT g, 'first ' || g FROM generate_series(1, 300) g")
        #expect(try await seed.converges())
        try sourceCluster.restart()
        try await seed.onSource(
            "INSERT INTO users (id, name) SELECT g, 'second ' || g FROM generate_series(301, 600) g")
        try await seed.onSource("UPDATE users SET address_street = 'after source restart' WHERE id % 3 = 0")
        let afterSource = try await seed.converges()
        let sessionsAfterSource = afterSource ? "" : await Self.activity(source, target)
        #expect(afterSource, "after the source restart; \(sessionsAfterSource)")
        try targetCluster.restart()
        try await seed.onSource("INSERT INTO users (id, name) SELECT g, 'third ' || g FROM generate_series(601, 900) g")
        try await seed.onSource("DELETE FROM users WHERE id % 5 = 0")
        let afterTarget = try await seed.converges()
        let sessionsAfterTarget = afterTarget ? "" : await Self.activity(source, target)
        #expect(afterTarget, "after the target restart; \(sessionsAfterTarget)")
        #expect(try await seed.targetScalar("SELECT count(*) FROM users_v2") == "720")
        bridge.cancel()
        try await bridge.value
    }
}
