import Foundation
import Logging
import PGClient
import Testing
import WALBridge

@Suite("walbridge run: the CONFIG.md semantics on the seed migration")
struct SyncTests {
    @Test("insert, update, key change, when turning false and true, delete: the target equals the oracle")
    func semanticsTable() async throws {
        try await SeedMigration.with { seed in
            let bridge = try await seed.start()
            try await seed.onSourceScript("""
                INSERT INTO users (name, email, address_street, address_city, address_postal_code)
                  VALUES ('Ada', 'ada@example.com', '1 Road', 'London', 'N1'), ('Bob', \
                'bob@example.com', NULL, NULL, NULL),
                         ('Cy', NULL, '3 Way', 'Oslo', NULL);
                INSERT INTO products (name, price) VALUES ('Engine', 1999), ('Cards', 250), ('Free', 0);
                UPDATE users SET name = 'Ada Lovelace' WHERE id = 1;
                UPDATE users SET address_street = '2 Lane', address_city = 'Paris' WHERE id = 2;
                UPDATE users SET address_street = NULL WHERE id = 1;
                UPDATE users SET id = 20 WHERE id = 2;
                UPDATE products SET price = price + 1;
                DELETE FROM products WHERE id = 2;
                DELETE FROM users WHERE id = 3;
                BEGIN; INSERT INTO users (id, name) VALUES (100, 'tmp'); UPDATE users \
                SET name = 'kept' WHERE id = 100; COMMIT;
                BEGIN; INSERT INTO users (id, name) VALUES (101, 'gone'); DELETE FROM users WHERE id = 101; COMMIT;
                BEGIN; INSERT INTO users (id, name) VALUES (102, 'rolled back'); ROLLBACK;
                """)
            #expect(try await seed.converges(), "target equals the mapping evaluated over the source")
            #expect(try await seed.targetScalar("SELECT full_name FROM users_v2 WHERE id = 20") == "Bob")
            #expect(try await seed.targetScalar("SELECT count(*) FROM users_v2 WHERE id IN (2, 3, 101, 102)") == "0")
            #expect(
                try await seed.targetScalar("SELECT street || ',' || city FROM addresses WHERE user_id = 20")
                    == "2 Lane,Paris")
            #expect(try await seed.targetScalar("SELECT count(*) FROM addresses WHERE user_id = 1") == "0")
            #expect(try await seed.targetScalar("SELECT price::text FROM products_v2 WHERE id = 1") == "20.00")
            bridge.cancel()
            try await bridge.value
        }
    }

    @Test("TRUNCATE follows on_truncate: stop halts with a clear error, truncate empties the target")
    func truncate() async throws {
        try await SeedMigration.with { seed in
            let bridge = try await seed.start()
            try await seed.onSource("INSERT INTO products (name, price) VALUES ('a', 1)")
            #expect(try await seed.converges())
            try await seed.onSource("TRUNCATE products")
            let error = await #expect(throws: BridgeError.self) { try await bridge.value }
            #expect("\(error.map { "\($0)" } ?? "")".contains("on_truncate: stop"))
            #expect(
                try await seed.targetScalar("SELECT count(*) FROM products_v2") == "1", "nothing applied past the stop")
        }
        try await SeedMigration.with(edit: {
            $0.replacingOccurrences(
                of: "    - into: public.products_v2\n",
                with: "    - into: public.products_v2\n      on_truncate: truncate\n")
        }) { seed in
            #expect(seed.configuration.tables[1].targets[0].onTruncate == .truncate)
            let bridge = try await seed.start()
            try await seed.onSource("INSERT INTO products (name, price) VALUES ('a', 1), ('b', 2)")
            #expect(try await seed.converges())
            try await seed.onSourceScript("TRUNCATE products; INSERT INTO products (name, price) VALUES ('c', 3)")
            #expect(try await seed.converges())
            #expect(try await seed.targetScalar("SELECT string_agg(name, ',') FROM products_v2") == "c")
            bridge.cancel()
            try await bridge.value
        }
    }

    @Test("an update of another column keeps a 100 kB TOAST value the source did not send")
    func toastIsKept() async throws {
        let big = String(repeating: "walbridge keeps toast ", count: 4_700)
        try await SeedMigration.with(
            targetSchema: SeedMigration.newSchema + "ALTER TABLE users_v2 ADD COLUMN bio text;",
            edit: {
                $0.replacingOccurrences(of: "        email: email\n", with: "        email: email\n        bio: bio\n")
            }
        ) { seed in
            let bridge = try await seed.start()
            try await seed.onSource("INSERT INTO users (id, name, bio) VALUES (1, 'Ada', $1)", [big])
            #expect(try await seed.converges())
            try await seed.onSource("UPDATE users SET name = 'Ada L' WHERE id = 1")
            #expect(try await seed.converges())
            #expect(try await seed.targetScalar("SELECT length(bio) FROM users_v2 WHERE id = 1") == String(big.count))
            #expect(try await seed.targetScalar("SELECT full_name FROM users_v2 WHERE id = 1") == "Ada L")
            // A row the target lacks but whose update left the big value out: read from the source, never NULL.
            try await seed.onSource("UPDATE users SET address_street = 'x' WHERE id = 1")
            #expect(try await seed.converges())
            try await PGConnection.connect(seed.target).closing {
                _ = try await $0.query("DELETE FROM users_v2 WHERE id = 1")
            }
            try await seed.onSource("UPDATE users SET name = 'Ada King' WHERE id = 1")
            #expect(try await seed.converges())
            #expect(try await seed.targetScalar("SELECT length(bio) FROM users_v2 WHERE id = 1") == String(big.count))
            bridge.cancel()
            try await bridge.value
        }
    }

    @Test(
        "a row the target rejects stops the bridge with table, key, LSN and SQLSTATE, and nothing after it is applied")
    func rejectedRowStops() async throws {
        try await SeedMigration.with { seed in
            let bridge = try await seed.start()
            try await seed.onSource("INSERT INTO products (id, name, price) VALUES (1, 'fine', 100)")
            #expect(try await seed.converges())
            // Three source transactions; the middle one's price (20 billion dollars) overflows numeric(10,2).
            try await seed.onSourceScript("""
                BEGIN; INSERT INTO products (id, name, price) VALUES (2, 'also fine', 200); COMMIT;
                BEGIN; INSERT INTO products (id, name, price) VALUES (3, 'too expensive', 2000000000000); COMMIT;
                BEGIN; INSERT INTO products (id, name, price) VALUES (4, 'after', 400); COMMIT;
                """)
            let error = await #expect(throws: BridgeError.self) { try await bridge.value }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains("public.products (id)=(3)"))
            #expect(text.contains("public.products_v2"))
            #expect(text.contains("22003"))
            #expect(text.contains("at LSN "))
            #expect(
                try await seed.targetScalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM products_v2") == "1,2",
                    "the transaction before the bad row is applied, the one after is not")
        }
    }

    @Test("a new row that a COPY-fed target rejects stops the bridge the same way, and nothing after it is applied")
    func rejectedCopiedRowStops() async throws {
        let target = SeedMigration.newSchema.replacingOccurrences(
            of: "email text UNIQUE);", with: "email text UNIQUE CHECK (email LIKE '%@%'));")
        try await SeedMigration.with(targetSchema: target) { seed in
            let bridge = try await seed.start()
            // users_v2 takes new rows straight by COPY; the middle transaction's email breaks its CHECK.
            try await seed.onSourceScript("""
                BEGIN; INSERT INTO users (id, name, email) VALUES (1, 'Ada', 'ada@example.com'); COMMIT;
                BEGIN; INSERT INTO users (id, name, email) VALUES (2, 'Bob', 'no address'); COMMIT;
                BEGIN; INSERT INTO users (id, name, email) VALUES (3, 'Cy', 'cy@example.com'); COMMIT;
                """)
            let error = await #expect(throws: BridgeError.self) { try await bridge.value }
            let text = error.map { "\($0)" } ?? ""
            #expect(
                text.contains("public.users (id)=(2)") && text.contains("public.users_v2") && text.contains("23514"),
                "\(text)")
            #expect(try await seed.targetScalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM users_v2") == "1")
        }
    }

    @Test("on_error: dead_letter keeps the rejected row with its payload and goes on")
    func rejectedRowIsDeadLettered() async throws {
        // No backfill: a chunk that also copies the bad row would dead-letter it a second time.
        try await SeedMigration.with(edit: { $0 + "\non_error: dead_letter\nbackfill: skip\n" }) { seed in
            let bridge = try await seed.start()
            try await seed.onSourceScript("""
                BEGIN; INSERT INTO products (id, name, price) VALUES (1, 'fine', 100); COMMIT;
                BEGIN; INSERT INTO products (id, name, price) VALUES (3, 'too expensive', 2000000000000); COMMIT;
                BEGIN; INSERT INTO products (id, name, price) VALUES (4, 'after', 400); COMMIT;
                """)
            // The rejected batch is replayed one change at a time from a new session: under a loaded test run, seconds.
            #expect(await TestClusters.eventually(timeout: .seconds(60)) {
                (try? await seed.targetScalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM products_v2")) == "1,4"
            })
            #expect(try await seed.targetScalar("SELECT count(*) FROM walbridge.dead_letters") == "1")
            #expect(
                try await seed.targetScalar(
                    "SELECT sqlstate || ' ' || source_table || ' ' || (key->>'id') "
                        + "|| ' ' || (row_data->'new'->>'price') FROM walbridge.dead_letters")
                    == "22003 public.products 3 2000000000000")
            // Later changes still flow.
            try await seed.onSource("UPDATE products SET name = 'renamed' WHERE id = 4")
            #expect(
                await TestClusters.eventually {
                    (try? await seed.targetScalar("SELECT name FROM products_v2 WHERE id = 4")) == "renamed"
                })
            bridge.cancel()
            try await bridge.value

            // dlq list shows it; retry fails while the target still cannot hold it, then applies once it can.
            let letters = try await DeadLetterQueue.list(seed.configuration)
            #expect(letters.map(\.sourceTable) == ["public.products"])
            #expect(letters.first?.sqlState == "22003")
            let logger = Logger(label: "dlq")
            #expect(
                try await DeadLetterQueue.retry(seed.configuration, logger: logger).map { $0.error != nil } == [true])
            try await PGConnection.connect(seed.target).closing {
                _ = try await $0.query("ALTER TABLE products_v2 ALTER COLUMN price TYPE numeric(20,2)")
            }
            try await seed.onSource("UPDATE products SET name = 'still expensive' WHERE id = 3")
            let retried = try await DeadLetterQueue.retry(seed.configuration, logger: logger)
            #expect(retried.map(\.id) == [letters[0].id] && retried.allSatisfy { $0.error == nil })
            #expect(
                try await seed.targetScalar("SELECT name || ' ' || price FROM products_v2 WHERE id = 3")
                    == "still expensive 20000000000.00",
                    "the row is applied as the source holds it now")
            #expect(try await DeadLetterQueue.list(seed.configuration).isEmpty)
        }
    }

    @Test("the checkpoint makes a restarted bridge skip what it applied and resume after it")
    func resumesFromCheckpoint() async throws {
        try await SeedMigration.with { seed in
            var bridge = try await seed.start()
            try await seed.onSource("INSERT INTO users (id, name) SELECT g, 'u' || g FROM generate_series(1, 500) g")
            #expect(try await seed.converges())
            bridge.cancel()
            try await bridge.value
            // Changes while stopped are kept by the slot; a target edit shows that applied changes are not redone.
            try await seed.onSource("UPDATE users SET name = 'while stopped' WHERE id <= 10")
            try await PGConnection.connect(seed.target).closing {
                _ = try await $0.query("UPDATE users_v2 SET full_name = 'edited in target' WHERE id = 500")
            }
            bridge = try await seed.start()
            #expect(
                await TestClusters.eventually {
                    (try? await seed.targetScalar("SELECT count(*) FROM users_v2 WHERE full_name = 'while stopped'"))
                        == "10"
                })
            #expect(try await seed.targetScalar("SELECT full_name FROM users_v2 WHERE id = 500") == "edited in target")
            bridge.cancel()
            try await bridge.value
        }
    }
}

@Suite("walbridge run: in-place expand in one database")
struct InPlaceTests {
    static let config = """
        slot: SLOT
        publication: SLOT
        tables:
          public.users:
            - into: public.users
              key: [id]
              columns:
                id: id
                full_name: name
        """

    @Test("""
        users.name → users.full_name in the same table: no loop, no phantom rows, converges under concurrent writes
        """)
    func inPlaceExpand() async throws {
        try await TestClusters.withDatabase(on: try TestClusters.source) { db in
            try await PGConnection.connect(db).closing { try await $0.simpleQuery("""
                CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL, email text, full_name text);
                INSERT INTO users (id, name) SELECT g, 'old ' || g FROM generate_series(1, 200) g;
                """) }
            let slot = "wbt_\(UInt32.random(in: 0...UInt32.max))"
            let configuration = try Configuration.parse(
                yaml: Self.config.replacingOccurrences(of: "SLOT", with: slot), file: "inplace.yml",
                environment: ["WALBRIDGE_SOURCE": db.raw, "WALBRIDGE_TARGET": db.raw])
            let streaming = Flag()
            var bridge = Bridge(configuration: configuration, logger: Logger(label: "inplace"))
            bridge.onStreaming = { _ in await streaming.set() }
            let task = Task { try await bridge.run() }
            #expect(await TestClusters.eventually { await streaming.isSet })

            // Two writers: inserts, renames and deletes at once.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<2 {
                    group.addTask {
                        try await PGConnection.connect(db).closing { app in
                            for i in 0..<150 {
                                let id = 1000 + writer * 1000 + i
                                try await app.query(
                                    "INSERT INTO users (id, name) VALUES ($1, $2)", [String(id), "new \(id)"])
                                try await app.query(
                                    "UPDATE users SET name = $2 WHERE id = $1",
                                    [String(1 + (i * 7 + writer) % 200), "renamed \(writer) \(i)"])
                                if i % 10 == 0 { try await app.query("DELETE FROM users WHERE id = $1", [String(id)]) }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            // Old rows only change when the application renames them: those (and the new rows) converge.
            let converged = await TestClusters.eventually(timeout: .seconds(60)) {
                (try? await PGConnection.connect(db).closing {
                    try await $0.query(
                        "SELECT count(*) FROM users WHERE full_name IS DISTINCT FROM name AND (id > 200 "
                            + "OR full_name IS NOT NULL)"
                    ).scalar
                }) == "0"
            }
            let stale = try await PGConnection.connect(db).closing {
                try await $0.query(
                    "SELECT id::text || ': ' || name || ' / ' || coalesce(full_name, 'NULL') "
                        + "FROM users WHERE full_name IS DISTINCT FROM name AND (id > 200 OR full_name IS NOT NULL) "
                        + "ORDER BY id LIMIT 20"
                ).rows
            }
            #expect(
                converged, "every row the stream touched has full_name = name; not yet: \(stale.compactMap { $0[0] })")
            try await PGConnection.connect(db).closing { app in
                // No phantom rows: the bridge never inserts or deletes in place.
                #expect(try await app.query("SELECT count(*) FROM users").scalar == String(200 + 300 - 30))
                // No loop: once idle, the bridge's own updates do not come back as work. Any update gives a row a
                // new xmin and ctid (statistics counters could lag here, these cannot).
                let versions = "SELECT md5(string_agg(xmin::text || ctid::text, ',' ORDER BY id)) FROM users"
                let before = try await app.query(versions).scalar
                try await Task.sleep(for: .seconds(2))
                let after = try await app.query(versions).scalar
                #expect(before == after, "no row changes while the application is idle")
            }
            task.cancel()
            try await task.value
        }
    }
}

@Suite("walbridge run and check: schema problems")
struct SchemaTests {
    @Test("""
        a mapped column dropped on the source stops the bridge before that transaction applies; a new \
        unmapped column is ignored
        """)
    func schemaDrift() async throws {
        try await SeedMigration.with { seed in
            let bridge = try await seed.start()
            try await seed.onSourceScript(
                "ALTER TABLE users ADD COLUMN nickname text; INSERT INTO users (id, name, nickname) "
                    + "VALUES (1, 'Ada', 'ada')")
            #expect(try await seed.converges(), "an unmapped new column changes nothing")
            try await seed.onSourceScript(
                "BEGIN; ALTER TABLE users DROP COLUMN email; INSERT INTO users (id, name) "
                    + "VALUES (2, 'Bob'); COMMIT;")
            let error = await #expect(throws: BridgeError.self) { try await bridge.value }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains("schema drift on public.users"))
            #expect(text.contains("mapped column email no longer exists"))
            #expect(
                try await seed.targetScalar("SELECT count(*) FROM users_v2") == "1",
                "nothing of the drifted transaction was applied")
        }
    }

    @Test("check compiles expressions as one statement each: an expression cannot smuggle in another statement")
    func checkRunsNoExtraStatements() async throws {
        try await SeedMigration.with(edit: {
            $0.replacingOccurrences(of: "name: name\n", with: "name: \"name); DROP TABLE products_v2; --\"\n")
        }) { seed in
            let report = try await Check.run(seed.configuration)
            #expect(!report.problems.isEmpty)
            #expect(try await seed.targetScalar("SELECT to_regclass('public.products_v2') IS NOT NULL") == "t")
        }
    }

    @Test("on_delete: ignore keeps the target row, but a key change still leaves no row at the old key")
    func onDeleteIgnore() async throws {
        let keyLine =
            "      key: [id]                       # target columns that identify the row (a unique constraint)\n"
        try await SeedMigration.with(edit: {
            $0.replacingOccurrences(of: keyLine, with: keyLine + "      on_delete: ignore\n")
        }) { seed in
            #expect(seed.configuration.tables[0].targets[0].onDelete == .ignore)
            let bridge = try await seed.start()
            try await seed.onSourceScript("INSERT INTO users (id, name) VALUES (1, 'Ada'), (2, 'Bob')")
            try await seed.onSourceScript("DELETE FROM users WHERE id = 1; UPDATE users SET id = 20 WHERE id = 2")
            // Inserted and deleted in one transaction, so in one batch: the insert still reaches the target.
            try await seed.onSourceScript(
                "INSERT INTO users (id, name) VALUES (3, 'Cy'); DELETE FROM users WHERE id = 3")
            let ids = "SELECT string_agg(id::text, ',' ORDER BY id) FROM users_v2"
            let settled = await TestClusters.eventually { (try? await seed.targetScalar(ids)) == "1,3,20" }
            let held = try await seed.targetScalar(ids) ?? "none"
            #expect(settled, "the deleted row stays, the moved row is only at its new key; target has \(held)")
            bridge.cancel()
            try await bridge.value
        }
    }

    @Test("a publication that does not publish deletes is refused, with the statement that fixes it")
    func publicationWithoutDeletes() async throws {
        try await SeedMigration.with { seed in
            try await seed.onSource(
                "CREATE PUBLICATION \(SQLQuoting.identifier(seed.configuration.publication)) FOR TABLE users, "
                    + "products WITH (publish = 'insert, update')")
            let error = await #expect(throws: BridgeError.self) {
                try await Bridge(configuration: seed.configuration, logger: Logger(label: "pub")).run()
            }
            #expect("\(error.map { "\($0)" } ?? "")".contains("SET (publish = 'insert, update, delete, truncate')"))
        }
    }

    @Test("""
        check names each problem with its config entry: missing column, no unique key, an expression \
        that does not compile
        """)
    func checkReportsProblems() async throws {
        let target = """
            CREATE TABLE users_v2 (id bigint, full_name text);
            CREATE TABLE addresses (user_id bigint PRIMARY KEY, street text, city text, postal_code text);
            CREATE TABLE products_v2 (id bigint PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL);
            """
        try await SeedMigration.with(
            targetSchema: target,
            edit: { $0.replacingOccurrences(of: "city: address_city", with: "city: upper(adress_city)") }
        ) { seed in
            let report = try await Check.run(seed.configuration)
            let problems = report.problems.joined(separator: "\n")
            #expect(report.problems.count == 2, "\(problems)")
            #expect(problems.contains("tables.public.users[0]") && problems.contains("has no column email"))
            #expect(
                problems.contains("tables.public.users[1]") && problems.contains("columns.city")
                    && problems.contains("adress_city"))
        }
        try await SeedMigration.with(
            targetSchema: SeedMigration.newSchema.replacingOccurrences(
                of: "user_id bigint PRIMARY KEY", with: "user_id bigint")
        ) { seed in
            let report = try await Check.run(seed.configuration)
            #expect(report.problems.count == 1)
            #expect(report.problems.first?.contains("key user_id has no unique constraint on public.addresses") == true)
        }
        try await SeedMigration.with { seed in
            let report = try await Check.run(seed.configuration)
            #expect(report.problems.isEmpty, "\(report.problems)")
            #expect(
                report.plan.contains {
                    $0.contains("INSERT INTO \"public\".\"products_v2\"") && $0.contains("(price::numeric / 100)")
                })
            // Renamed columns of the same type, and a when over them, copy straight in; a cast does not.
            #expect(
                report.plan.contains {
                    $0.hasSuffix("COPY \"public\".\"users_v2\" (\"id\", \"full_name\", \"email\") FROM STDIN")
                })
            #expect(
                report.plan.contains {
                    $0.hasSuffix(
                        "COPY \"public\".\"addresses\" (\"user_id\", \"street\", \"city\", \"postal_code\") "
                            + "FROM STDIN WHERE \"street\" IS NOT NULL")
                })
            #expect(!report.plan.contains { $0.contains("COPY \"public\".\"products_v2\"") })
        }
    }
}

@Suite("walbridge run: large transactions streamed before they commit")
struct StreamingTests {
    /// The seed migration with a walsender that streams any transaction over 64 kB.
    static func withSmallDecodingMemory(_ body: (SeedMigration) async throws -> Void) async throws {
        try await SeedMigration.with { seed in
            var configuration = seed.configuration
            configuration.source = try DatabaseAddress(seed.source.raw + " options='-c logical_decoding_work_mem=64kB'")
            try await body(SeedMigration(source: seed.source, target: seed.target, configuration: configuration))
        }
    }

    static let big = "repeat('x', 200)"

    @Test("""
        a streamed transaction is applied whole; aborts, subtransaction rollbacks and interleaved commits fall \
        back and still converge
        """)
    func streamedTransactions() async throws {
        try await Self.withSmallDecodingMemory { seed in
            let bridge = try await seed.start()
            // Streamed in many chunks, then committed.
            try await seed.onSource(
                "INSERT INTO users (id, name, email) SELECT g, 'u' || g, \(Self.big) "
                    + "|| g FROM generate_series(1, 5000) g")
            #expect(try await seed.converges(), "a streamed transaction")
            let streamed = try await PGConnection.connect(seed.source).closing {
                try await $0.query(
                    "SELECT stream_txns FROM pg_stat_replication_slots WHERE slot_name = $1", [seed.configuration.slot]
                ).scalar
            }
            #expect(Int(streamed ?? "0") ?? 0 >= 1, "the walsender streamed it")
            // Each case below starts a fresh bridge, which streams again (a fallback turns streaming off for the
            // process).
            bridge.cancel()
            try await bridge.value
            var next = try await seed.start()
            // A small transaction commits while a large one is being streamed.
            let large = try await PGConnection.connect(seed.source)
            try await large.simpleQuery(
                "BEGIN; INSERT INTO users (id, name, email) SELECT g, 'big' || g, \(Self.big) "
                    + "|| g FROM generate_series(30001, 34000) g")
            try await seed.onSource("INSERT INTO users (id, name) VALUES (40000, 'small, committed first')")
            try await large.simpleQuery("COMMIT")
            #expect(try await seed.converges(), "after a commit interleaved with a streamed transaction")
            next.cancel()
            try await next.value
            next = try await seed.start()
            // A streamed transaction that rolls back, and one that rolls back a subtransaction.
            try await seed.onSourceScript("""
                BEGIN; INSERT INTO users (id, name, email) SELECT g, 'gone' || g, \
                \(Self.big) || g FROM generate_series(10001, 13000) g; ROLLBACK;
                BEGIN; INSERT INTO users (id, name) VALUES (20000, 'kept');
                SAVEPOINT s; INSERT INTO users (id, name, email) SELECT g, 'sub' || g, \
                \(Self.big) || g FROM generate_series(20001, 23000) g; ROLLBACK TO SAVEPOINT s;
                UPDATE users SET name = 'after rollback to savepoint' WHERE id = 1; COMMIT;
                """)
            #expect(try await seed.converges(), "after a streamed abort and a subtransaction rollback")
            #expect(try await seed.targetScalar("SELECT count(*) FROM users_v2 WHERE id > 10000 AND id < 30000") == "1")
            next.cancel()
            try await next.value
        }
    }

    @Test("""
        a streamed transaction left open does not hold the applied position at its start: \
        wait_for_lsn and the slot move on
        """)
    func openStreamedTransaction() async throws {
        try await Self.withSmallDecodingMemory { seed in
            let bridge = try await seed.start()
            #expect(await seed.backfillDone())
            let open = try await PGConnection.connect(seed.source)
            try await open.simpleQuery(
                "BEGIN; INSERT INTO users (id, name, email) SELECT g, 'open' || g, \(Self.big) "
                    + "|| g FROM generate_series(50001, 54000) g")
            let lsn =
                try await PGConnection.connect(seed.source).closing {
                    try await $0.query("SELECT pg_current_wal_lsn()::text").scalar
                } ?? ""
            let applied = try await seed.targetScalar(
                "SELECT walbridge.wait_for_lsn($1::pg_lsn, '20 seconds', $2)::text", [lsn, seed.configuration.slot])
            #expect(
                applied == "true", "every transaction committed before \(lsn) is applied, and the open one comes later")
            // The position goes to the source with the next status update.
            let confirmed = await TestClusters.eventually(timeout: .seconds(10)) {
                let past = try? await PGConnection.connect(seed.source).closing {
                    try await $0.query(
                        "SELECT confirmed_flush_lsn >= $2::pg_lsn FROM pg_replication_slots WHERE slot_name = $1",
                        [seed.configuration.slot, lsn]
                    ).scalar
                }
                return past == "t"
            }
            #expect(confirmed, "the slot is confirmed past the open transaction's start")
            // Restarted from there, the bridge still gets the open transaction whole once it commits.
            bridge.cancel()
            try await bridge.value
            let again = try await seed.start()
            try await open.simpleQuery("COMMIT")
            #expect(try await seed.converges(), "the open transaction, committed, arrives whole")
            #expect(try await seed.targetScalar("SELECT count(*) FROM users_v2 WHERE id > 50000") == "4000")
            again.cancel()
            try await again.value
            await open.close()
        }
    }
}
