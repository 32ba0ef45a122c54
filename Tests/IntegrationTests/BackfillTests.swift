import Foundation
import Logging
import PGClient
import Testing
@testable import WALBridge

@Suite("walbridge run: backfill")
struct BackfillTests {
    /// Legacy users 1…n (addresses on even ids) and products 1…n/10, all there before the bridge first starts.
    static func legacyRows(_ n: Int) -> String {
        """
        INSERT INTO users (id, name, email, address_street, address_city, address_postal_code)
        SELECT g, 'user ' || g, 'u' || g || '@example.com', CASE WHEN g % 2 = 0 THEN g || ' Main St' END,
               CASE WHEN g % 2 = 0 THEN 'Springfield' END, CASE WHEN g % 2 = 0 THEN lpad((g % 99999)::text, 5, '0') END
        FROM generate_series(1, \(n)) g;
        INSERT INTO products (id, name, price) SELECT g, 'product ' || g, g * 7 FROM generate_series(1, \(n / 10)) g;
        """
    }

    /// One random change to user `id` on the source: an update (that may add an address), a delete, an
    /// insert or upsert, or a key change to a new id.
    static func change(
        _ id: Int, next: inout Int, on app: PGConnection, using generator: inout SystemRandomNumberGenerator
    ) async throws {
        switch Int.random(in: 0..<10, using: &generator) {
        case 0..<5:
            try await app.query("""
                UPDATE users SET name = name || '+', address_street = CASE \
                WHEN address_street IS NULL THEN 'moved ' || id END
                WHERE id = $1
                """, [String(id)])
        case 5..<7:
            try await app.query("DELETE FROM users WHERE id = $1", [String(id)])
        case 7..<9:
            try await app.query("""
                INSERT INTO users (id, name, address_street) VALUES ($1::bigint, 'new ' || $1::text, 'new street')
                ON CONFLICT (id) DO UPDATE SET name = 'again ' || users.id
                """, [String(Bool.random(using: &generator) ? id : next)])
            next += 1
        default:
            try await app.query("UPDATE users SET id = $2 WHERE id = $1", [String(id), String(next)])
            next += 1
        }
    }

    @Test("""
        200,000 users copied while a writer changes rows already copied, being copied and not reached: the target \
        equals the oracle, and no snapshot outlives a chunk
        """)
    func concurrentWriter() async throws {
        try await SeedMigration.with { seed in
            try await seed.onSourceScript(Self.legacyRows(200_000))
            var limits = BackfillLimits()
            limits.chunkRows = 2_000
            let started = ContinuousClock.now
            let bridge = try await seed.start(backfill: limits)

            // The oldest snapshot any backfill transaction holds, sampled all along.
            let sampler = Task {
                try await PGConnection.connect(seed.source).closing { monitor in
                    var oldest = 0.0
                    var seen = 0
                    while !Task.isCancelled {
                        let age: Double?
                        do {
                            age = try await monitor.query("""
                                SELECT extract(epoch FROM max(now() - xact_start))::float8::text FROM pg_stat_activity
                                WHERE application_name = 'walbridge backfill' AND backend_xmin IS NOT NULL
                                """).scalar.flatMap(Double.init)
                        } catch is CancellationError {
                            break  // Cancelled mid-query: sampling is over.
                        }
                        if let age {
                            oldest = max(oldest, age)
                            seen += 1
                        }
                        try? await Task.sleep(for: .milliseconds(10))
                    }
                    return (oldest, seen)
                }
            }
            // Changes below the copied key, in the chunk being copied, and above it, until the copy ends.
            let writer = Task {
                try await PGConnection.connect(seed.source).closing { app in
                    var counts = (copied: 0, copying: 0, ahead: 0)
                    var next = 300_000
                    var copiedThrough = 0
                    var generator = SystemRandomNumberGenerator()
                    for step in 0... {
                        if step % 25 == 0 {
                            let states = try await seed.backfillStates()
                            if states["public.users"] == "done" && states["public.products"] == "done" { break }
                            copiedThrough = Int(try await PGConnection.connect(seed.target).closing {
                                        try await $0.query(
                                            "SELECT coalesce((last_key[1])::int, 0)::text FROM walbridge.backfill "
                                                + "WHERE source_table = 'public.users'"
                                        ).scalar
                            } ?? "0") ?? 0
                        }
                        let id = Bool.random(using: &generator) && copiedThrough < 200_000
                            ? Int.random(in: copiedThrough + 1...min(copiedThrough + 2_000, 200_000), using: &generator)
                            : Int.random(in: 1...200_000, using: &generator)
                        if id <= copiedThrough {
                            counts.copied += 1
                        } else if id <= copiedThrough + 2_000 {
                            counts.copying += 1
                        } else {
                            counts.ahead += 1
                        }
                        try await Self.change(id, next: &next, on: app, using: &generator)
                    }
                    return counts
                }
            }
            let counts = try await writer.value
            #expect(await seed.backfillDone())
            let took = ContinuousClock.now - started
            sampler.cancel()
            let (oldest, seen) = try await sampler.value
            #expect(counts.copied > 0 && counts.copying > 0 && counts.ahead > 0, "\(counts)")
            #expect(try await seed.converges(timeout: .seconds(60)))
            let differences = try await seed.differences()
            #expect(differences.isEmpty, "\(differences)")
            #expect(seen > 0, "the sampler saw the backfill's transactions")
            // A chunk's transaction lasts milliseconds when the machine is idle; under a loaded test run, allow
            // seconds, still far from a snapshot held for the whole copy.
            #expect(
                oldest < min(5.0, BackfillWorker.seconds(took) / 4),
                "the oldest backfill snapshot was \(oldest) s old; the copy took \(took)")
            #expect(try await seed.targetScalar("SELECT sum(rows_copied)::text FROM walbridge.backfill") != "0")
            bridge.cancel()
            try await bridge.value
        }
    }

    @Test("killed with SIGKILL three times while backfilling, it resumes after the last chunk it wrote and ends exact")
    func killThreeTimes() async throws {
        try await SeedMigration.with { seed in
            try await seed.onSourceScript(Self.legacyRows(100_000))
            let config = try seed.writeConfigFile()
            defer { config.remove() }
            func startBridge() throws -> CommandRun {
                try CommandRun(
                    ["run", "--config", config.path, "--quiet", "--max-rows-per-second", "15000"],
                    environment: config.environment)
            }
            let stop = Flag()
            let writer = Task {
                try await PGConnection.connect(seed.source).closing { app in
                    var generator = SystemRandomNumberGenerator()
                    var next = 300_000
                    while await !stop.isSet {
                        try await Self.change(
                            Int.random(in: 1...100_000, using: &generator), next: &next, on: app, using: &generator)
                    }
                }
            }
            var copied: [Int] = []
            for _ in 0..<3 {
                let bridge = try startBridge()
                #expect(await TestClusters.eventually(timeout: .seconds(60)) {
                        (try? await seed.targetScalar(
                            "SELECT max(rows_copied)::text FROM walbridge.backfill WHERE source_table = "
                                + "'public.users'")).flatMap { $0.flatMap { Int($0) } }.map { $0 > (copied.last ?? 0) }
                            == true
                }, "the run copies more rows")
                bridge.signal(SIGKILL)
                #expect(await bridge.wait() == SIGKILL, "the bridge was still running when killed: \(bridge.stderr)")
                let users = try await seed.targetScalar(
                    "SELECT rows_copied::text FROM walbridge.backfill WHERE source_table = 'public.users' "
                        + "AND state = 'copying'")
                copied.append(Int(users ?? "") ?? -1)
            }
            #expect(
                copied == copied.sorted() && copied.allSatisfy { $0 > 0 },
                "each run resumed where the last one stopped: \(copied)")
            let bridge = try startBridge()
            try await Task.sleep(for: .seconds(1))
            await stop.set()
            try await writer.value
            #expect(await seed.backfillDone())
            #expect(try await seed.converges(timeout: .seconds(60)))
            let differences = try await seed.differences()
            #expect(differences.isEmpty, "\(differences)")
            bridge.signal(SIGTERM)
            #expect(await bridge.wait() == 0)
        }
    }

    @Test("an empty table, a composite key, a text key and a mapping with when are copied exactly")
    func shapes() async throws {
        let yaml = """
            slot: SLOT
            publication: SLOT
            tables:
              public.empty:
                - into: public.empty_v2
                  key: [id]
                  columns: {id: id, label: label}
              public.events:
                - into: public.events_v2
                  key: [tenant, seq]
                  columns: {tenant: tenant, seq: seq, body: upper(body)}
              public.tags:
                - into: public.tags_v2
                  key: [name]
                  when: note IS NOT NULL
                  columns: {name: name, note: note}
            """
        try await TestClusters.withDatabase(on: try TestClusters.source) { source in
            try await TestClusters.withDatabase(on: try TestClusters.target) { target in
                try await PGConnection.connect(source).closing { try await $0.simpleQuery("""
                    CREATE TABLE empty (id int PRIMARY KEY, label text);
                    CREATE TABLE events (tenant int, seq int, body text, PRIMARY KEY (tenant, seq));
                    INSERT INTO events SELECT t, s, 'event ' || t || '/' || s || E'\\ttab\\\\slash\\nline' \
                    FROM generate_series(1, 7) t, generate_series(1, 3000) s;
                    CREATE TABLE tags (name text PRIMARY KEY, note text);
                    INSERT INTO tags SELECT 'tag ' || g || ' ' || md5(g::text), CASE WHEN g % 3 > 0 \
                    THEN 'note ' || g END FROM generate_series(1, 12000) g;
                    """) }
                try await PGConnection.connect(target).closing { try await $0.simpleQuery("""
                    CREATE TABLE empty_v2 (id int PRIMARY KEY, label text);
                    CREATE TABLE events_v2 (tenant int, seq int, body text, PRIMARY KEY (tenant, seq));
                    CREATE TABLE tags_v2 (name text PRIMARY KEY, note text);
                    """) }
                let slot = "wbt_\(UInt32.random(in: 0...UInt32.max))"
                let configuration = try Configuration.parse(
                    yaml: yaml.replacingOccurrences(of: "SLOT", with: slot), file: "shapes.yml",
                    environment: ["WALBRIDGE_SOURCE": source.raw, "WALBRIDGE_TARGET": target.raw])
                let seed = SeedMigration(source: source, target: target, configuration: configuration)
                var limits = BackfillLimits()
                limits.chunkRows = 1_000
                let bridge = try await seed.start(backfill: limits)
                try await seed.onSourceScript("""
                    UPDATE tags SET note = NULL WHERE name IN (SELECT name FROM tags ORDER BY name LIMIT 50);
                    DELETE FROM events WHERE seq = 1;
                    """)
                #expect(await seed.backfillDone())
                #expect(try await seed.converges())
            let differences = try await seed.differences()
            #expect(differences.isEmpty, "\(differences)")
                let notes = try await PGConnection.connect(source).closing {
                    try await $0.query("SELECT count(note)::text FROM tags").scalar
                }
                #expect(try await seed.targetScalar("SELECT count(*)::text FROM tags_v2") == notes)
                #expect(
                    try await seed.targetScalar(
                        "SELECT rows_copied::text FROM walbridge.backfill WHERE source_table = 'public.empty'") == "0")
                try await seed.onSource("INSERT INTO empty VALUES (1, 'streamed')")
                #expect(
                    await TestClusters.eventually {
                        (try? await seed.targetScalar("SELECT label FROM empty_v2 WHERE id = 1")) == "streamed"
                    })
                bridge.cancel()
                try await bridge.value
            }
        }
    }

    @Test("""
        the source computes mapped columns only where the target would compute the same: a time zone the target \
        sets, a function each side defines its own way, and a row the target rejects (dead-lettered) end as \
        the staged path writes them
        """)
    func computedOnTheSource() async throws {
        let yaml = """
            slot: SLOT
            publication: SLOT
            on_error: dead_letter
            tables:
              public.orders:
                - into: public.orders_v2
                  key: [id]
                  columns: {id: id, day: "placed::date", dollars: "cents::numeric / 100", note: "upper(note)"}
                - into: public.order_tags
                  key: [order_id]
                  when: note IS NOT NULL
                  columns: {order_id: id, tag: "tag(note)"}
              public.bookings:
                - into: public.bookings_v2
                  key: [room, during]
                  columns: {room: room, during: during, note: "upper(note)"}
            """
        try await TestClusters.withDatabase(on: try TestClusters.source) { source in
            try await TestClusters.withDatabase(on: try TestClusters.target) { target in
                try await PGConnection.connect(source).closing { try await $0.simpleQuery("""
                    CREATE FUNCTION tag(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'source:' || t $$;
                    CREATE TABLE orders (id bigint PRIMARY KEY, placed timestamptz NOT NULL, \
                    cents bigint NOT NULL, note text);
                    INSERT INTO orders SELECT g, timestamptz '2024-01-01 00:30:00+00' + g * interval '37 minutes',
                        CASE WHEN g = 4321 THEN -1 ELSE g * 7 END, CASE WHEN g % 3 > 0 THEN 'note ' || g END
                    FROM generate_series(1, 9000) g;
                    CREATE TABLE bookings (room int, during tstzrange, note text, PRIMARY KEY (room, during));
                    """) }
                // Dates of the target's time zone, and a function of the same name that answers otherwise.
                try await PGConnection.connect(target).closing { try await $0.simpleQuery("""
                    DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET timezone = %L', \
                    current_database(), 'America/New_York'); END $$;
                    CREATE FUNCTION tag(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'target:' || t $$;
                    CREATE TABLE orders_v2 (id bigint PRIMARY KEY, day date NOT NULL, \
                    dollars numeric NOT NULL CHECK (dollars >= 0), note text);
                    CREATE TABLE order_tags (order_id bigint PRIMARY KEY, tag text NOT NULL);
                    CREATE TABLE bookings_v2 (room int, during tstzrange, note text, PRIMARY KEY (room, during));
                    """) }
                let slot = "wbt_\(UInt32.random(in: 0...UInt32.max))"
                let configuration = try Configuration.parse(
                    yaml: yaml.replacingOccurrences(of: "SLOT", with: slot), file: "computed.yml",
                    environment: ["WALBRIDGE_SOURCE": source.raw, "WALBRIDGE_TARGET": target.raw])

                // orders_v2 is computed on the source, under the target's time zone; order_tags calls a user-defined
                // function. A range key prints by the time zone, so bookings is not computed on the source.
                let tables = [
                    TableName(schema: "public", name: "orders"), TableName(schema: "public", name: "bookings")
                ]
                let (evaluation, ranged) = try await PGConnection.connect(source).closing { sourceSession in
                    try await PGConnection.connect(target).closing { targetSession in
                        try await sourceSession.simpleQuery(StableOutput.settings)
                        var infos: [TableName: SourceTableInfo] = [:]
                        for table in tables {
                            infos[table] = try #require(try await SourceCatalog.describe(table, on: sourceSession))
                        }
                        let plan = try MappingPlan.build(configuration, sourceTables: infos, sameDatabase: false)
                        let logger = Logger(label: "test")
                        return (
                            try await SourceEvaluation.plan(
                                plan.sources[0], direct: [nil, nil], on: sourceSession, target: targetSession,
                                logger: logger),
                            try await SourceEvaluation.plan(
                                plan.sources[1], direct: [nil], on: sourceSession, target: targetSession, logger: logger
                            )
                        )
                    }
                }
                #expect(evaluation.map { Array($0.targets.keys) } == [0])
                #expect(evaluation?.settings.first { $0.name == "TimeZone" }?.value == "America/New_York")
                #expect(ranged == nil)

                let seed = SeedMigration(source: source, target: target, configuration: configuration)
                var limits = BackfillLimits()
                limits.chunkRows = 1_000
                let bridge = try await seed.start(backfill: limits)
                #expect(await seed.backfillDone())
                try await seed.onSource("UPDATE orders SET note = 'late' WHERE id = 3")
                #expect(
                    await TestClusters.eventually {
                        (try? await seed.targetScalar("SELECT tag FROM order_tags WHERE order_id = 3")) == "target:late"
                    })
                let expected = try await PGConnection.connect(source).closing { session in
                    try await session.simpleQuery("SET timezone = 'America/New_York'")
                    return try await session.query("""
                        SELECT id::text, placed::date::text, (cents::numeric / 100)::text, \
                        upper(note) FROM orders WHERE id <> 4321 ORDER BY id
                        """).rows
                }
                let written = try await PGConnection.connect(target).closing { session in
                    try await session.query(
                        "SELECT id::text, day::text, dollars::text, note FROM orders_v2 ORDER BY id"
                    ).rows
                }
                #expect(written.count == expected.count)
                #expect(
                    written == expected,
                    """
                    first difference: \(zip(written, expected).first { $0 != $1 }.map { "\($0) vs \($1)" }
                        ?? "in the extra rows")
                    """
                )
                let tags = try await PGConnection.connect(target).closing { session in
                    try await session.query(
                        "SELECT count(*)::text, count(*) FILTER (WHERE tag LIKE 'target:note %' OR tag = "
                            + "'target:late')::text FROM order_tags WHERE order_id <> 4321"
                    ).rows
                }
                #expect(tags == [["6000", "6000"]], "every tag by the target's function (and order 3's streamed one)")
                #expect(
                    try await seed.targetScalar(
                        "SELECT (count(*) > 0)::text FROM walbridge.dead_letters WHERE key->>'id' = '4321' "
                            + "AND sqlstate = '23514'") == "true")
                bridge.cancel()
                try await bridge.value
            }
        }
    }

    @Test("""
        walbridge backfill --table starts a table's copy on a running bridge with backfill: skip, \
        and again from the start
        """)
    func requestedBackfill() async throws {
        try await SeedMigration.with(edit: { $0 + "backfill: skip\n" }) { seed in
            try await seed.onSourceScript(Self.legacyRows(5_000))
            let bridge = try await seed.start()
            try await seed.onSource("UPDATE users SET name = 'streamed' WHERE id = 1")
            #expect(
                await TestClusters.eventually {
                    (try? await seed.targetScalar("SELECT count(*)::text FROM users_v2")) == "1"
                })
            let config = try seed.writeConfigFile { $0 + "backfill: skip\n" }
            defer { config.remove() }

            let request = try CommandRun(
                ["backfill", "--config", config.path, "--table", "public.users"], environment: config.environment)
            #expect(await request.wait() == 0, "\(request.stderr)")
            // The running bridge may claim the table between the request and the print.
            #expect(
                request.stdout.contains("public.users: backfill pending")
                    || request.stdout.contains("public.users: backfill copying"), "\(request.stdout)")
            #expect(request.stdout.contains("The running bridge starts copying within a second"), "\(request.stdout)")
            #expect(
                await TestClusters.eventually(timeout: .seconds(60)) {
                    (try? await seed.backfillStates())?["public.users"] == "done"
                })
            #expect(try await seed.targetScalar("SELECT count(*)::text FROM users_v2") == "5000")
            #expect(
                try await seed.targetScalar("SELECT count(*)::text FROM products_v2") == "0",
                "only the requested table is copied")

            // Rows deleted on the target come back when the table is requested again; a changed row is written
            // over, and a row whose `when` is false on the source is removed.
            _ = try await seed.targetScalar("DELETE FROM users_v2 WHERE id > 4000")
            _ = try await seed.targetScalar("UPDATE users_v2 SET full_name = 'changed on the target' WHERE id = 10")
            _ = try await seed.targetScalar("INSERT INTO addresses (user_id, street) VALUES (1, 'not on the source')")
            let again = try CommandRun(
                ["backfill", "--config", config.path, "--table", "users"], environment: config.environment)
            #expect(await again.wait() == 0, "\(again.stderr)")
            #expect(
                await TestClusters.eventually(timeout: .seconds(60)) {
                    (try? await seed.targetScalar("SELECT count(*)::text FROM users_v2")) == "5000"
                })
            #expect(
                await TestClusters.eventually(timeout: .seconds(60)) {
                    (try? await seed.backfillStates())?["public.users"] == "done"
                })
            let differences = try await seed.differences()
            #expect(differences.filter { !$0.hasPrefix("public.products_v2") }.isEmpty, "\(differences)")

            let unknown = try CommandRun(
                ["backfill", "--config", config.path, "--table", "public.orders"], environment: config.environment)
            #expect(await unknown.wait() == 1)
            #expect(unknown.stderr.contains("public.orders is not a mapped source table"), "\(unknown.stderr)")
            bridge.cancel()
            try await bridge.value
        }
    }

    @Test("a backfill that fails stops the bridge with its error instead of a quiet stop")
    func failedCopyStops() async throws {
        try await SeedMigration.with { seed in
            try await seed.onSource("INSERT INTO users (id, name) VALUES (1, 'existing')")
            // Progress that no longer fits the key's type: the chunk read fails on the source.
            try await PGConnection.connect(seed.target).closing { target in
                try await StateSchema.ensure(on: target)
                try await target.query(
                    "INSERT INTO walbridge.backfill (slot, source_table, state, last_key) VALUES ($1, 'public.users', "
                        + "'copying', '{not-a-key}')",
                    [seed.configuration.slot])
            }
            let bridge = try await seed.start()
            let error = await #expect(throws: PGError.self) { try await bridge.value }
            #expect("\(error.map { "\($0)" } ?? "")".contains("invalid input syntax for type bigint"))
            #expect(
                try await seed.targetScalar(
                    "SELECT state FROM walbridge.control WHERE slot = $1", [seed.configuration.slot]) == "failed")
        }
    }
}
