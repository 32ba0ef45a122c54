import Foundation
import PGClient
import Testing
import WALBridge

/// New schemas with foreign keys between their tables, as new schemas have: split targets of one source table, targets
/// of two source tables listed child first, cascaded deletes, multi-table truncates, cycles.
@Suite("walbridge run into targets with foreign keys")
struct ForeignKeyTests {
    static let legacy = """
        CREATE TABLE customers (id bigserial PRIMARY KEY, name text NOT NULL, street text);
        CREATE TABLE orders (id bigserial PRIMARY KEY, \
        customer_id bigint NOT NULL REFERENCES customers ON DELETE CASCADE,
                             amount_cents bigint NOT NULL);
        INSERT INTO customers (name, street)
            SELECT 'c' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'street ' || g END FROM generate_series(1, 3000) g;
        INSERT INTO orders (customer_id, amount_cents) SELECT 1 + (g * 7) % 3000, g FROM generate_series(1, 6000) g;
        """
    static let target = """
        CREATE TABLE customers_v2 (id bigint PRIMARY KEY, name text NOT NULL, seq serial);
        CREATE TABLE customer_addresses (customer_id bigint PRIMARY KEY REFERENCES customers_v2 (id), \
        street text NOT NULL);
        CREATE TABLE orders_v2 (id bigint PRIMARY KEY, \
        customer_id bigint NOT NULL REFERENCES customers_v2 (id), amount numeric(12,2));
        """
    /// The child table first: a YAML mapping's order means nothing.
    static let tables = """
        tables:
          public.orders:
            - into: public.orders_v2
              key: [id]
              columns: {id: id, customer_id: customer_id, amount: amount_cents / 100.0}
          public.customers:
            - into: public.customers_v2
              key: [id]
              columns: {id: id, name: name}
            - into: public.customer_addresses
              key: [customer_id]
              when: street IS NOT NULL
              columns: {customer_id: id, street: street}
        """

    /// A round of the application's writes: new customers with orders, orders moved and changed (also of customers the
    /// backfill may not have copied yet), addresses set and cleared, customers deleted with their orders.
    static func workload(_ seed: SeedMigration, round: Int) async throws {
        let high = 2900 - round * 40
        try await seed.onSourceScript("""
            BEGIN;
            WITH c AS (INSERT INTO customers (name, street) VALUES ('new \(round)', 'new street') RETURNING id)
            INSERT INTO orders (customer_id, amount_cents) SELECT id, 100 * \(round) FROM c;
            UPDATE orders SET amount_cents = amount_cents + 1 WHERE customer_id BETWEEN \(high) AND \(high + 20);
            COMMIT;
            UPDATE orders SET customer_id = \(high + 30) WHERE id = (SELECT min(id) \
            FROM orders WHERE customer_id = \(high + 31));
            UPDATE customers SET street = CASE WHEN street IS NULL THEN 'moved in' END \
            WHERE id IN (\(high + 5), \(high + 6), \(round + 1));
            DELETE FROM customers WHERE id IN (\(high + 10), \(round + 100));
            """)
    }

    @Test("""
        targets of two source tables listed child first, with split targets, while the application \
        writes during the backfill
        """)
    func twoSourceTablesDuringBackfill() async throws {
        try await SeedMigration.with(
            legacySchema: Self.legacy, targetSchema: Self.target, edit: SeedMigration.tables(Self.tables)
        ) { seed in
            let report = try await Check.run(seed.configuration)
            #expect(report.problems.isEmpty, "\(report.problems)")
            #expect(report.plan.contains {
                    $0.contains(
                        "writes go parents first (public.customers_v2, then public.customer_addresses, "
                            + "public.orders_v2)")
                    && $0.contains("the backfill copies public.customers, then public.orders")
            }, "\(report.plan.prefix(3))")
            #expect(
                report.notes.contains { $0.contains("orders_v2_customer_id_fkey") && $0.contains("is not DEFERRABLE") },
                "\(report.notes)")
            var backfill = BackfillLimits()
            backfill.chunkRows = 300
            backfill.rowsPerSecond = 3000
            let bridge = try await seed.start(backfill: backfill)
            for round in 0..<12 {
                try await Self.workload(seed, round: round)
                try await Task.sleep(for: .milliseconds(150))
            }
            #expect(await seed.backfillDone())
            for round in 12..<16 { try await Self.workload(seed, round: round) }
            #expect(try await seed.converges(timeout: .seconds(60)))
            #expect(try await seed.differences() == [])
            let verified = try await Verifier(configuration: seed.configuration).run()
            #expect(verified.mismatchCount == 0, "\(verified.tables.flatMap(\.mismatches).prefix(3))")
            bridge.cancel()
            try await bridge.value
        }
    }

    @Test("""
        a cascaded delete whose parent comes first in the WAL, each change in a slice of its own, \
        is applied children first
        """)
    func cascadeAcrossSlices() async throws {
        try await SeedMigration.with(
            legacySchema: Self.legacy, targetSchema: Self.target, edit: SeedMigration.tables(Self.tables)
        ) { seed in
            var limits = ApplyLimits()
            limits.sliceRows = 1
            let bridge = try await seed.start(limits: limits)
            #expect(await seed.backfillDone())
            try await seed.onSourceScript("""
                DELETE FROM customers WHERE id <= 20;
                BEGIN; INSERT INTO customers (id, name, street) VALUES (100001, 'x', 'y');
                INSERT INTO orders (customer_id, amount_cents) VALUES (100001, 5); COMMIT;
                UPDATE customers SET street = NULL WHERE id = 100001;
                """)
            #expect(try await seed.converges(timeout: .seconds(60)))
            #expect(try await seed.differences() == [])
            bridge.cancel()
            try await bridge.value
        }
    }

    @Test("""
        the seed's users split into users_v2 and addresses REFERENCES users_v2: deletes and key \
        changes, batched and replayed
        """)
    func splitTargets() async throws {
        let target =
            SeedMigration.newSchema + "ALTER TABLE addresses ADD FOREIGN KEY (user_id) REFERENCES users_v2 (id);"
        try await SeedMigration.with(targetSchema: target) { seed in
            try await seed.onSource("""
                INSERT INTO users (name, email, address_street, address_city)
                SELECT 'u' || g, 'u' || g || '@x', 'street ' || g, 'city' FROM generate_series(1, 200) g
                """)
            let bridge = try await seed.start()
            #expect(await seed.backfillDone())
            try await seed.onSourceScript("""
                DELETE FROM users WHERE id = 1;
                UPDATE users SET id = id + 1000 WHERE id BETWEEN 2 AND 5;
                BEGIN; DELETE FROM users WHERE id BETWEEN 6 AND 50; UPDATE users SET id = 5000 WHERE id = 51; COMMIT;
                INSERT INTO users (id, name, address_street) VALUES (6, 'again', 'back');
                UPDATE users SET email = 'x' || id WHERE id > 100;
                """)
            #expect(try await seed.converges())
            #expect(try await seed.differences() == [])
            bridge.cancel()
            try await bridge.value
        }
    }

    @Test("TRUNCATE of a parent and its child in one statement empties their targets in one, RESTART IDENTITY too")
    func multiTableTruncate() async throws {
        let tables = Self.tables.replacingOccurrences(
            of: "      key: [", with: "      on_truncate: truncate\n      key: [")
        try await SeedMigration.with(
            legacySchema: Self.legacy, targetSchema: Self.target, edit: SeedMigration.tables(tables)
        ) { seed in
            let bridge = try await seed.start()
            #expect(await seed.backfillDone())
            try await seed.onSourceScript(
                "TRUNCATE customers, orders RESTART IDENTITY; INSERT INTO customers (name) VALUES ('after');")
            #expect(try await seed.converges())
            #expect(try await seed.differences() == [])
            #expect(
                try await seed.targetScalar("SELECT seq FROM customers_v2") == "1",
                "the target's own sequences restart with the source's")
            bridge.cancel()
            try await bridge.value
        }
    }

    @Test("""
        a cycle of foreign keys between targets is refused by check; with one of them DEFERRABLE, under backfill: \
        skip, it is checked at COMMIT
        """)
    func cycle() async throws {
        let legacy = """
            CREATE TABLE a (id int PRIMARY KEY, b_id int); CREATE TABLE b (id int PRIMARY KEY, a_id int);
            INSERT INTO a VALUES (1, 1); INSERT INTO b VALUES (1, 1);
            """
        let tables = """
            tables:
              public.a:
                - into: public.a_v2
                  key: [id]
                  columns: {id: id, b_id: b_id}
              public.b:
                - into: public.b_v2
                  key: [id]
                  columns: {id: id, a_id: a_id}
            """
        let strict = """
            CREATE TABLE a_v2 (id int PRIMARY KEY, b_id int); CREATE TABLE b_v2 (id int PRIMARY KEY, \
            a_id int REFERENCES a_v2);
            ALTER TABLE a_v2 ADD FOREIGN KEY (b_id) REFERENCES b_v2;
            """
        try await SeedMigration.with(
            legacySchema: legacy, targetSchema: strict, edit: SeedMigration.tables(tables)
        ) { seed in
            let report = try await Check.run(seed.configuration)
            #expect(
                report.problems.contains { $0.contains("form a cycle") && $0.contains("DEFERRABLE") },
                "\(report.problems)")
        }
        let deferrable = """
            CREATE TABLE a_v2 (id int PRIMARY KEY, b_id int); CREATE TABLE b_v2 (id int PRIMARY KEY, \
            a_id int REFERENCES a_v2);
            ALTER TABLE a_v2 ADD FOREIGN KEY (b_id) REFERENCES b_v2 DEFERRABLE;
            """
        try await SeedMigration.with(
            legacySchema: legacy, targetSchema: deferrable, edit: SeedMigration.tables(tables)
        ) { seed in
            // The backfill copies one table at a time: a row referencing one not copied yet would be refused at its
            // COMMIT.
            let refused = try await Check.run(seed.configuration)
            #expect(refused.problems.contains { $0.contains("backfill: skip") }, "\(refused.problems)")
        }
        let skip = { (text: String) in
            SeedMigration.tables(tables)(text).replacingOccurrences(of: "\ntables:", with: "\nbackfill: skip\ntables:")
        }
        try await SeedMigration.with(legacySchema: legacy, targetSchema: deferrable, edit: skip) { seed in
            let report = try await Check.run(seed.configuration)
            #expect(report.problems.isEmpty, "\(report.problems)")
            try await PGConnection.connect(seed.target).closing { target in
                _ = try await target.simpleQuery(
                    "BEGIN; SET CONSTRAINTS ALL DEFERRED; INSERT INTO a_v2 VALUES (1, 1); "
                        + "INSERT INTO b_v2 VALUES (1, 1); COMMIT")
            }
            let bridge = try await seed.start()
            try await seed.onSourceScript(
                "BEGIN; INSERT INTO a VALUES (2, 2); INSERT INTO b VALUES (2, 2); COMMIT; BEGIN; "
                    + "DELETE FROM b WHERE id = 1; DELETE FROM a WHERE id = 1; COMMIT;")
            #expect(try await seed.converges())
            #expect(try await seed.differences() == [])
            bridge.cancel()
            try await bridge.value
        }
    }

    @Test(
        "a refused change whose ordered replay cannot start, as a mapped source table was dropped since, is named first"
    )
    func replayBlockedByDroppedTable() async throws {
        let legacy =
            "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (id int PRIMARY KEY, p_id int); "
            + "INSERT INTO p VALUES (1);"
        let target =
            "CREATE TABLE p_v2 (id int PRIMARY KEY); CREATE TABLE c_v2 (id int PRIMARY KEY, "
            + "p_id int REFERENCES p_v2);"
        let tables = """
            tables:
              public.p:
                - into: public.p_v2
                  key: [id]
                  columns: {id: id}
              public.c:
                - into: public.c_v2
                  key: [id]
                  columns: {id: id, p_id: p_id}
            """
        try await SeedMigration.with(
            legacySchema: legacy, targetSchema: target, edit: SeedMigration.tables(tables)
        ) { seed in
            let bridge = try await seed.start()
            #expect(await seed.backfillDone())
            try await seed.onSourceScript("BEGIN; INSERT INTO c VALUES (1, 99); DROP TABLE p; COMMIT;")
            let stopped = await TestClusters.eventually(timeout: .seconds(30)) {
                if case .failure = await bridge.result { true } else { false }
            }
            #expect(stopped)
            guard case .failure(let error) = await bridge.result else { return }
            let message = BridgeError.message(for: error) ?? "\(error)"
            #expect(message.contains("23503") && message.contains("c_v2"), "the refusal is named: \(message)")
        }
    }
    @Test("a child row read back for a TOAST value it left out keeps the parent the stream sent, not one still to come")
    func readBackKeepsSentParent() async throws {
        let legacy = """
            CREATE TABLE parents (id int PRIMARY KEY);
            CREATE TABLE children (id int PRIMARY KEY, parent_id int REFERENCES parents, flag text, body text);
            ALTER TABLE children ALTER COLUMN body SET STORAGE EXTERNAL;
            INSERT INTO parents VALUES (1);
            INSERT INTO children VALUES (1, 1, NULL, repeat('toast ', 2000));
            """
        let target = """
            CREATE TABLE parents_v2 (id int PRIMARY KEY);
            CREATE TABLE children_v2 (id int PRIMARY KEY, parent_id int REFERENCES parents_v2, flag text, body text);
            """
        let tables = """
            tables:
              public.children:
                - into: public.children_v2
                  key: [id]
                  when: flag IS NOT NULL
                  columns: {id: id, parent_id: parent_id, flag: flag, body: body}
              public.parents:
                - into: public.parents_v2
                  key: [id]
                  columns: {id: id}
            """
        try await SeedMigration.with(legacySchema: legacy, targetSchema: target, edit: SeedMigration.tables(tables)) {
            seed in
            let first = try await seed.start()
            #expect(await seed.backfillDone())
            first.cancel()
            _ = await first.result
            // The child enters the `when` with its body left out; its next parent is inserted after, and taken after.
            try await seed.onSource("UPDATE children SET flag = 'in' WHERE id = 1")
            try await seed.onSource("INSERT INTO parents VALUES (2)")
            try await seed.onSource("UPDATE children SET parent_id = 2 WHERE id = 1")
            var limits = ApplyLimits()
            limits.sliceRows = 1
            let bridge = try await seed.start(limits: limits)
            #expect(try await seed.converges(timeout: .seconds(60)))
            #expect(try await seed.differences() == [])
            bridge.cancel()
            if case .failure(let error) = await bridge.result, !(error is CancellationError) {
                Issue.record("the bridge stopped: \(BridgeError.message(for: error) ?? "\(error)")")
            }
        }
    }
}
