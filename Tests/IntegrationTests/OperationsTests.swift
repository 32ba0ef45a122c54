import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import PGClient
import PGOutput
import Synchronization
import Testing
@testable import WALBridge

@Suite("operations: pause, resume, status, freshness, slot commands")
struct OperationsTests {
    /// The users_v2 ids on the target, in order.
    static func ids(_ seed: SeedMigration) async throws -> String {
        try await seed.targetScalar("SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM users_v2") ?? ""
    }

    /// The source's current WAL position.
    static func sourceLSN(_ seed: SeedMigration) async throws -> LSN {
        try await PGConnection.connect(seed.source).closing {
            try await $0.query("SELECT pg_current_wal_lsn()::text").scalar
        }.flatMap { LSN($0) } ?? .zero
    }

    static func onTarget(_ seed: SeedMigration, _ body: (PGConnection) async throws -> Void) async throws {
        try await PGConnection.connect(seed.target).closing { try await body($0) }
    }

    @Test("""
        pause with a writer running stops the target within a second and keeps the slot; a bridge restarted while \
        paused stays paused; resume goes on from there
        """)
    func pauseAndResume() async throws {
        try await SeedMigration.with { seed in
            let bridge = try await seed.start()
            let stop = Flag()
            let writer = Task {
                try await PGConnection.connect(seed.source).closing { app in
                    var id = 0
                    while await !stop.isSet {
                        id += 1
                        try await app.query("INSERT INTO users (id, name) VALUES ($1::bigint, 'writer')", [String(id)])
                        try await Task.sleep(for: .milliseconds(5))
                    }
                }
            }
            #expect(await TestClusters.eventually(timeout: .seconds(60)) {
                    (try? await seed.targetScalar("SELECT count(*)::text FROM users_v2")).flatMap {
                        $0.flatMap { Int($0) }
                    } ?? 0 > 20
            })
            try await Self.onTarget(seed) { try await Control.pause(slot: seed.configuration.slot, at: nil, on: $0) }
            try await Task.sleep(for: .milliseconds(1_500))
            let held = try await seed.targetScalar("SELECT count(*)::text FROM users_v2")
            // The bridge reports the pause once its sessions are closed; the target must not change meanwhile either.
            #expect(
                await TestClusters.eventually { (try? await BridgeStatus.read(seed.configuration).state) == "paused" })
            try await Task.sleep(for: .seconds(1))
            #expect(
                try await seed.targetScalar("SELECT count(*)::text FROM users_v2") == held,
                "the target stopped changing")
            let status = try await BridgeStatus.read(seed.configuration)
            #expect(status.state == "paused" && status.paused, "\(status)")
            #expect(
                await TestClusters.eventually {
                    (try? await BridgeStatus.read(seed.configuration).sourceSlot.active) == false
                }, "the walsender ends")
            #expect(status.sourceSlot.exists, "the slot stays: \(status.sourceSlot)")
            let confirmed = try await BridgeStatus.read(seed.configuration).sourceSlot.confirmedFlushLSN

            // Restarted while paused: it stays paused.
            bridge.cancel()
            try await bridge.value
            #expect(try await BridgeStatus.read(seed.configuration).state == "stopped")
            let restarted = Task {
                try await Bridge(configuration: seed.configuration, logger: Logger(label: "paused")).run()
            }
            #expect(
                await TestClusters.eventually { (try? await BridgeStatus.read(seed.configuration).state) == "paused" },
                "a bridge started while paused says so")
            try await Task.sleep(for: .seconds(1))
            #expect(
                try await seed.targetScalar("SELECT count(*)::text FROM users_v2") == held,
                "a bridge started while paused applies nothing")
            let stillPaused = try await BridgeStatus.read(seed.configuration)
            #expect(
                stillPaused.sourceSlot.confirmedFlushLSN == confirmed,
                "the slot's confirmed position stops while the writer goes on")

            await stop.set()
            try await writer.value
            try await Self.onTarget(seed) { try await Control.resume(slot: seed.configuration.slot, on: $0) }
            #expect(try await seed.converges(timeout: .seconds(60)), "resume applies everything written meanwhile")
            #expect(await seed.backfillDone())
            #expect(
                await TestClusters.eventually {
                    (try? await BridgeStatus.read(seed.configuration).state) == "streaming"
                })
            restarted.cancel()
            try await restarted.value
            #expect(try await BridgeStatus.read(seed.configuration).state == "stopped")
        }
    }

    @Test("pause --at-lsn and run --until-lsn apply exactly the transactions committed at or before the LSN")
    func pauseAtLSN() async throws {
        try await SeedMigration.with { seed in
            let bridge = try await seed.start()
            #expect(await seed.backfillDone())
            try await Self.onTarget(seed) { try await Control.pause(slot: seed.configuration.slot, at: nil, on: $0) }
            #expect(
                await TestClusters.eventually { (try? await BridgeStatus.read(seed.configuration).state) == "paused" })
            try await seed.onSource("INSERT INTO users (id, name) VALUES (1, 'before')")
            try await seed.onSource("INSERT INTO users (id, name) VALUES (2, 'before')")
            let cut = try await Self.sourceLSN(seed)
            try await seed.onSource("INSERT INTO users (id, name) VALUES (3, 'after')")
            try await Self.onTarget(seed) { try await Control.pause(slot: seed.configuration.slot, at: cut, on: $0) }
            #expect(await TestClusters.eventually { (try? await Self.ids(seed)) == "1,2" })
            try await Task.sleep(for: .seconds(1))
            #expect(try await Self.ids(seed) == "1,2", "nothing after the LSN")
            let status = try await BridgeStatus.read(seed.configuration)
            #expect(status.state == "paused" && status.pauseAtLSN == cut.description, "\(status)")

            // run --until-lsn: the bridge ends by itself after the last transaction at or before it.
            bridge.cancel()
            try await bridge.value
            try await Self.onTarget(seed) { try await Control.resume(slot: seed.configuration.slot, on: $0) }
            let second = try await Self.sourceLSN(seed)
            try await seed.onSource("INSERT INTO users (id, name) VALUES (4, 'later')")
            var until = Bridge(configuration: seed.configuration, logger: Logger(label: "until"))
            until.untilLSN = WALPosition(second)
            let ended = Task { try await until.run() }
            #expect(await TestClusters.eventually { (try? await Self.ids(seed)) == "1,2,3" })
            try await ended.value
            #expect(try await Self.ids(seed) == "1,2,3", "the row written after --until-lsn waits for the next run")
        }
    }

    @Test("""
        pause --at-lsn with a writer racing it: once it returns, nothing committed after the LSN reaches the target; \
        too late, it fails and asks nothing
        """)
    func pauseAtLSNRacingWriter() async throws {
        try await SeedMigration.with { seed in
            let bridge = try await seed.start()
            #expect(await seed.backfillDone())
            let writer = try await PGConnection.connect(seed.source)
            // After each commit, the source's WAL position: row n committed after ends[n - 1] and before ends[n].
            var ends: [LSN] = [.zero]
            var exact = 0
            for round in 1...6 {
                let cutAfter = Int.random(in: 5...25)
                var cut: LSN?
                var asked = false
                for step in 0..<40 {
                    let id = ends.count
                    try await writer.query(
                        "INSERT INTO products (id, name, price) VALUES ($1::bigint, 'p', 1)", [String(id)])
                    ends.append(LSN(try await writer.query("SELECT pg_current_wal_lsn()::text").scalar ?? "") ?? .zero)
                    if step == cutAfter {
                        let lsn = try await Self.sourceLSN(seed)
                        cut = lsn
                        do {
                            try await Self.onTarget(seed) {
                                try await Control.pause(slot: seed.configuration.slot, at: lsn, on: $0)
                            }
                            asked = true
                        } catch let error as BridgeError {
                            #expect("\(error)".contains("has already applied"), "\(error)")
                        }
                    }
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0...30)))
                }
                guard let cut else { continue }
                if asked {
                    exact += 1
                    #expect(
                        await TestClusters.eventually {
                            (try? await BridgeStatus.read(seed.configuration).state) == "paused"
                        })
                    let held =
                        try await seed.targetScalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM products_v2")
                        ?? ""
                    let ids = held.split(separator: ",").compactMap { Int($0) }
                    let before = ends.indices.dropFirst().filter { ends[$0] <= cut }
                    let after = ends.indices.dropFirst().filter { ends[$0 - 1] >= cut }
                    let missing = Set(before).subtracting(ids).sorted()
                    let leaked = Set(after).intersection(ids).sorted()
                    #expect(
                        ids == Array(1...(ids.last ?? 0)),
                        "round \(round): the target holds a prefix of the transactions")
                    #expect(missing.isEmpty, "round \(round): rows committed before \(cut) are missing: \(missing)")
                    #expect(leaked.isEmpty, "round \(round): rows committed after \(cut) reached the target: \(leaked)")
                } else {
                    #expect(
                        (try await BridgeStatus.read(seed.configuration)).paused == false,
                        "round \(round): a refused pause asks nothing")
                }
                try await Self.onTarget(seed) { try await Control.resume(slot: seed.configuration.slot, on: $0) }
                #expect(await TestClusters.eventually {
                    (try? await seed.targetScalar("SELECT count(*)::text FROM products_v2")) == String(ends.count - 1)
                }, "round \(round): resumed, the bridge catches up")
            }
            #expect(exact > 0, "at least one pause landed before the bridge passed its LSN")
            await writer.close()
            bridge.cancel()
            try await bridge.value
        }
    }

    @Test("""
        walbridge.wait_for_lsn returns true once the bridge applied the source up to the LSN, false \
        on timeout while paused
        """)
    func waitForLSN() async throws {
        try await SeedMigration.with { seed in
            let bridge = try await seed.start()
            try await seed.onSource("INSERT INTO users (id, name) VALUES (1, 'read your write')")
            let written = try await Self.sourceLSN(seed)
            let fresh = try await seed.targetScalar(
                "SELECT walbridge.wait_for_lsn($1::pg_lsn, '20 seconds')::text", [written.description])
            #expect(fresh == "true")
            #expect(try await seed.targetScalar("SELECT full_name FROM users_v2 WHERE id = 1") == "read your write")
            // Nothing mapped changes: keepalives still move the position past a later LSN.
            let idle = try await Self.sourceLSN(seed)
            #expect(
                try await seed.targetScalar(
                    "SELECT walbridge.wait_for_lsn($1::pg_lsn, '20 seconds')::text", [idle.description]) == "true")

            try await Self.onTarget(seed) { try await Control.pause(slot: seed.configuration.slot, at: nil, on: $0) }
            #expect(
                await TestClusters.eventually { (try? await BridgeStatus.read(seed.configuration).state) == "paused" })
            try await seed.onSource("INSERT INTO users (id, name) VALUES (2, 'while paused')")
            let paused = try await Self.sourceLSN(seed)
            #expect(
                try await seed.targetScalar(
                    "SELECT walbridge.wait_for_lsn($1::pg_lsn, '1 second')::text", [paused.description]) == "false")
            bridge.cancel()
            try await bridge.value
        }
    }

    @Test("""
        a slot dropped behind the bridge's back stops the next start with the way out, and slot create \
        refuses to make a new one
        """)
    func slotDroppedBehindItsBack() async throws {
        try await SeedMigration.with { seed in
            let bridge = try await seed.start()
            try await seed.onSource("INSERT INTO users (id, name) VALUES (1, 'Ada')")
            #expect(try await seed.converges())
            bridge.cancel()
            try await bridge.value
            try await seed.onSource("SELECT pg_drop_replication_slot($1)", [seed.configuration.slot])
            let error = await #expect(throws: BridgeError.self) {
                try await Bridge(configuration: seed.configuration, logger: Logger(label: "dropped")).run()
            }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains("does not exist, but the target holds a checkpoint"), "\(text)")
            #expect(text.contains("backfill again"), "\(text)")
            let status = try await BridgeStatus.read(seed.configuration)
            #expect(status.state == "failed" && !status.sourceSlot.exists, "\(status)")
            let created = await #expect(throws: BridgeError.self) {
                _ = try await SlotAdmin.create(seed.configuration, logger: Logger(label: "create"))
            }
            #expect(
                "\(created.map { "\($0)" } ?? "")".contains("does not exist, but the target holds a checkpoint"),
                "slot create refuses too")
        }
    }

    @Test("""
        walbridge slot create, status --json and drop: idempotent create, drop refused while attached unless --force, \
        and what the target still holds
        """)
    func slotCommands() async throws {
        try await SeedMigration.with { seed in
            let config = try seed.writeConfigFile()
            defer { config.remove() }
            for _ in 0..<2 {
                let create = try CommandRun(
                    ["slot", "create", "--config", config.path], environment: config.environment)
                #expect(await create.wait() == 0, "\(create.stderr)")
            }
            let tables = try await PGConnection.connect(seed.source).closing {
                try await $0.query(
                    "SELECT string_agg(tablename, ',' ORDER BY tablename) "
                        + "FROM pg_publication_tables WHERE pubname = $1", [seed.configuration.publication]
                ).scalar
            }
            #expect(tables == "products,users", "the publication holds exactly the mapped tables")

            let bridge = try await seed.start()
            try await seed.onSource("INSERT INTO users (id, name) VALUES (1, 'Ada')")
            #expect(await seed.backfillDone())
            #expect(try await seed.converges())
            let status = try CommandRun(
                ["slot", "status", "--config", config.path, "--json"], environment: config.environment)
            #expect(await status.wait() == 0, "\(status.stderr)")
            let slot = try JSONDecoder().decode(SlotStatus.self, from: Data(status.stdout.utf8))
            #expect(
                slot.exists && slot.active && slot.activePID != nil && slot.walStatus == "reserved"
                    && slot.retainedBytes != nil, "\(slot)")
            let full = try CommandRun(["status", "--config", config.path, "--json"], environment: config.environment)
            #expect(await full.wait() == 0, "\(full.stderr)")
            let whole = try JSONDecoder().decode(BridgeStatus.self, from: Data(full.stdout.utf8))
            #expect(whole.state == "streaming" && whole.appliedLSN != nil && whole.backfill.count == 2, "\(whole)")
            #expect(whole.retainedWALWarning == nil, "under the default threshold of 1 GB")
            var strict = seed.configuration
            strict.retainedWALWarningBytes = 1
            #expect(
                try await BridgeStatus.read(strict).retainedWALWarning?.contains("over the warning threshold of 1")
                    == true)

            let refused = try CommandRun(["slot", "drop", "--config", config.path], environment: config.environment)
            #expect(await refused.wait() == 1)
            #expect(
                refused.stderr.contains("a bridge is attached") && refused.stderr.contains("--force"),
                "\(refused.stderr)")
            let forced = try CommandRun(
                ["slot", "drop", "--config", config.path, "--force"], environment: config.environment)
            #expect(await forced.wait() == 0, "\(forced.stderr)")
            #expect(forced.stdout.contains("still holds a checkpoint at"), "\(forced.stdout)")
            bridge.cancel()
            _ = await bridge.result
            let left = try await PGConnection.connect(seed.source).closing {
                try await $0.query(
                    "SELECT (SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1) + (SELECT count(*) "
                        + "FROM pg_publication WHERE pubname = $1)", [seed.configuration.slot]
                ).scalar
            }
            #expect(left == "0", "slot and publication are gone")
        }
    }

    @Test("""
        SIGTERM while a large transaction is applied: exit 0 within 5 s, JSON log lines, and after a restart \
        nothing is lost or doubled
        """)
    func sigtermMidTransaction() async throws {
        try await SeedMigration.with { seed in
            let config = try seed.writeConfigFile()
            defer { config.remove() }
            let first = try CommandRun(
                ["run", "--config", config.path, "--log-format", "json"], environment: config.environment)
            #expect(
                await TestClusters.eventually { first.stderr.contains("\"message\":\"streaming\"") }, "\(first.stderr)")
            try await seed.onSource("INSERT INTO users (id, name) VALUES (0, 'small')")
            #expect(
                await TestClusters.eventually {
                    (try? await seed.targetScalar("SELECT count(*)::text FROM users_v2")) == "1"
                })
            let writer = Task {
                try await seed.onSource(
                    "INSERT INTO users (id, name, address_street) SELECT g, 'big ' || g, "
                        + "'street ' || g FROM generate_series(1, 50000) g")
            }
            try await writer.value
            try await Task.sleep(for: .milliseconds(Int.random(in: 300...1_500)))
            let signalled = ContinuousClock.now
            first.signal(SIGTERM)
            #expect(await first.wait(timeout: .seconds(5)) == 0, "exit 0 within 5 s: \(first.stderr.suffix(2_000))")
            #expect(ContinuousClock.now - signalled < .seconds(5))
            let lines = first.stderr.split(separator: "\n")
            #expect(
                lines.contains { $0.contains("\"message\":\"signal received, stopping\"") }, "the shutdown is logged")
            for line in lines {
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(
                    object?["level"] != nil && object?["message"] != nil && object?["time"] != nil,
                    "not a JSON log line: \(line)")
            }
            let count = try await seed.targetScalar("SELECT count(*)::text FROM users_v2")
            #expect(
                count == "1" || count == "50001",
                "the large transaction is applied whole or not at all: \(count ?? "none")")
            let second = try CommandRun(["run", "--config", config.path, "--quiet"], environment: config.environment)
            #expect(try await seed.converges(timeout: .seconds(60)))
            #expect(try await seed.targetScalar("SELECT count(*)::text FROM users_v2") == "50001")
            second.signal(SIGTERM)
            #expect(await second.wait() == 0)
        }
    }

    @Test("the slots/ scripts create, show and drop the slot on the live source")
    func slotScripts() async throws {
        try await TestClusters.withDatabase(on: try TestClusters.source) { source in
            _ = try await PGConnection.connect(source).closing {
                try await $0.simpleQuery("CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY)")
            }
            let slot = "wbt_script_\(UInt32.random(in: 0...UInt32.max))"
            func psql(_ script: String, _ variables: [String]) throws -> (Int32, String) {
                let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
                    "../../slots"
                ).standardized
                return try TestClusters.psql(
                    source, file: folder.appendingPathComponent(script),
                    options: ["-A", "-t"] + variables.flatMap { ["-v", $0] })
            }
            let names = ["slot=\(slot)", "publication=\(slot)"]
            for _ in 0..<2 {
                let (status, output) = try psql("create.sql", names + ["tables=public.a, public.b"])
                #expect(status == 0 && output.contains("public.a, public.b"), "\(output)")
            }
            let (status, output) = try psql("status.sql", ["slot=\(slot)"])
            #expect(status == 0 && output.hasPrefix("\(slot)|f|") && output.contains("|reserved|"), "\(output)")
            let (dropped, dropOutput) = try psql("drop.sql", names)
            #expect(dropped == 0, "\(dropOutput)")
            let left = try await PGConnection.connect(source).closing {
                try await $0.query(
                    "SELECT (SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1) + (SELECT count(*) "
                        + "FROM pg_publication WHERE pubname = $1)", [slot]
                ).scalar
            }
            #expect(left == "0")
        }
    }
}

@Suite("operations: metrics and health")
struct MetricsTests {
    /// GETs `path` from the bridge's metrics server; the status code and body.
    static func get(_ port: Int, _ path: String) async throws -> (Int, String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// The samples of a Prometheus text exposition, by name with labels; fails on a line that is not one.
    static func samples(_ text: String) -> [String: Double]? {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                return nil
            }
            let name = String(line[..<space])
            guard name.range(
                of: #"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*""#
                    + #"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})?$"#,
                options: .regularExpression) != nil
            else { return nil }
            samples[name] = value
        }
        return samples
    }

    @Test("""
        /metrics is Prometheus text whose lag falls to 0 when idle and counts applied changes; /healthz is 200 while \
        streaming, 503 when paused
        """)
    func metricsAndHealth() async throws {
        try await SeedMigration.with { seed in
            let found = Mutex<Int>(0)
            var bridge = Bridge(configuration: seed.configuration, logger: Logger(label: "metrics"))
            bridge.metricsAddress = "127.0.0.1:0"
            bridge.onMetricsServer = { server in found.withLock { $0 = server.port } }
            let running = Task { [bridge] in try await bridge.run() }
            #expect(await seed.backfillDone())
            #expect(
                await TestClusters.eventually(timeout: .seconds(60)) {
                    (try? await BridgeStatus.read(seed.configuration).state) == "streaming"
                })
            let listening = found.withLock { $0 }
            #expect(listening > 0)
            try await seed.onSource(
                "INSERT INTO users (id, name, address_street) SELECT g, 'u' || g, "
                    + "'s' || g FROM generate_series(1, 500) g")
            #expect(try await seed.converges())
            var last: [String: Double] = [:]
            // Other tests' databases on the same cluster move its WAL too: the lag is 0 whenever the bridge has caught
            // up.
            let idle = await TestClusters.eventually(timeout: .seconds(60)) {
                guard let (status, body) = try? await Self.get(listening, "/metrics"), status == 200,
                    let samples = Self.samples(body)
                else { return false }
                last = samples
                return samples["walbridge_lag_bytes"] == 0 && samples["walbridge_lag_seconds"] == 0
            }
            #expect(idle, "lag falls to 0: \(last.filter { $0.key.hasPrefix("walbridge_lag") })")
            #expect(
                last["walbridge_changes_applied_total{table=\"public.users\",operation=\"insert\"}"] == 500,
                "\(last.keys.sorted())")
            #expect(last["walbridge_state{state=\"streaming\"}"] == 1)
            #expect((last["walbridge_target_transactions_total"] ?? 0) >= 1)
            #expect(last["walbridge_retained_wal_bytes"] != nil)
            #expect(try await Self.get(listening, "/healthz").0 == 200)

            try await PGConnection.connect(seed.target).closing {
                try await Control.pause(slot: seed.configuration.slot, at: nil, on: $0)
            }
            #expect(
                await TestClusters.eventually { (try? await Self.get(listening, "/healthz").0) == 503 },
                "not healthy while paused")
            #expect(try await Self.get(listening, "/nothing").0 == 404)
            running.cancel()
            try await running.value
        }
    }
}
