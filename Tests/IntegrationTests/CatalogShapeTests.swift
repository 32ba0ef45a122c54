import Foundation
import PGClient
import Testing
import WALBridge

/// Legacy and new schemas whose catalog says more than a primary key: inherited tables, INCLUDE columns, TOASTed
/// members of a replica identity, DEFERRABLE uniques. Each once gave a silently wrong target or a late stop.
@Suite("walbridge run on catalog shapes: inheritance, INCLUDE keys, TOASTed identities, deferrable keys")
struct CatalogShapeTests {
    static let big = String(repeating: "an identity member stored out of line ", count: 70)

    /// The seed migration with `tables` (YAML from `tables:` on) over these schemas.
    static func with(
        legacy: String, target: String, tables: String, _ body: (SeedMigration) async throws -> Void
    ) async throws {
        try await SeedMigration.with(
            legacySchema: legacy, targetSchema: target, edit: SeedMigration.tables(tables), body)
    }

    @Test("an update of one identity column while another is an unchanged out-of-line TOAST value keeps the row")
    func toastedIdentityMember() async throws {
        let legacy = """
            CREATE TABLE tags (a text NOT NULL, b text NOT NULL, v int);
            ALTER TABLE tags ALTER COLUMN a SET STORAGE EXTERNAL;
            CREATE UNIQUE INDEX tags_ab ON tags (a, b);
            ALTER TABLE tags REPLICA IDENTITY USING INDEX tags_ab;
            """
        let tables = """
            tables:
              public.tags:
                - into: public.tags_v2
                  key: [a, b]
                  columns: {a: a, b: b, v: v}
            """
        try await Self.with(
            legacy: legacy, target: "CREATE TABLE tags_v2 (a text, b text, v int, PRIMARY KEY (a, b));", tables: tables
        ) { seed in
            try await seed.onSource("INSERT INTO tags VALUES ($1, 'old', 1), ($1 || '2', 'x', 1)", [Self.big])
            let bridge = try await seed.start()
            #expect(await seed.backfillDone())
            try await seed.onSourceScript("""
                UPDATE tags SET b = 'new' WHERE b = 'old';
                UPDATE tags SET v = 2 WHERE b = 'x';
                BEGIN; UPDATE tags SET v = 3 WHERE b = 'new'; UPDATE tags SET b = 'newer' WHERE b = 'new'; COMMIT;
                """)
            #expect(try await seed.converges())
            #expect(try await seed.differences() == [])
            #expect(try await seed.targetScalar("SELECT count(*) FROM tags_v2") == "2")
            bridge.cancel()
            try await bridge.value
        }
    }

    @Test("""
        a target that other tables inherit from: updates, deletes and a TRUNCATE touch its own rows, never theirs, \
        and verify compares its own rows
        """)
    func inheritedTarget() async throws {
        let legacy = """
            CREATE TABLE notes (id int PRIMARY KEY, body text);
            INSERT INTO notes SELECT g, 'n' || g FROM generate_series(1, 20) g;
            """
        let target = """
            CREATE TABLE notes_v2 (id int PRIMARY KEY, body text);
            CREATE TABLE notes_v2_archive (archived_at date) INHERITS (notes_v2);
            INSERT INTO notes_v2_archive SELECT g, 'archived ' || g, date '2020-01-01' FROM generate_series(1, 30) g;
            """
        let tables = """
            tables:
              public.notes:
                - into: public.notes_v2
                  key: [id]
                  on_truncate: truncate
                  columns: {id: id, body: body}
            """
        try await Self.with(legacy: legacy, target: target, tables: tables) { seed in
            let bridge = try await seed.start()
            #expect(await seed.backfillDone())
            try await seed.onSource("UPDATE notes SET body = body || ' changed' WHERE id <= 10")
            try await seed.onSource("DELETE FROM notes WHERE id > 15")
            let applied = await TestClusters.eventually(timeout: .seconds(30)) {
                let changed = try? await seed.targetScalar(
                    "SELECT count(*) FROM ONLY notes_v2 WHERE body LIKE '% changed'")
                let rows = try? await seed.targetScalar("SELECT count(*) FROM ONLY notes_v2")
                return changed == "10" && rows == "15"
            }
            #expect(applied)
            let verified = try await Verifier(configuration: seed.configuration).run()
            #expect(verified.mismatchCount == 0, "\(verified.tables.flatMap(\.mismatches).prefix(3))")
            try await seed.onSource("TRUNCATE notes")
            let truncated = await TestClusters.eventually(timeout: .seconds(30)) {
                (try? await seed.targetScalar("SELECT count(*) FROM ONLY notes_v2")) == "0"
            }
            #expect(truncated)
            let archive = try await seed.targetScalar(
                "SELECT count(*) FILTER (WHERE body LIKE 'archived %') || '/' || count(*) FROM notes_v2_archive")
            #expect(archive == "30/30", "the inheriting table keeps its rows as they were")
            bridge.cancel()
            try await bridge.value
        }
    }

    @Test("""
        INCLUDE columns are not key columns: on the target a key with INCLUDE passes, on the source a key \
        read from one is refused
        """)
    func includeColumns() async throws {
        let legacy = "CREATE TABLE inc (a int, b int, c text, PRIMARY KEY (a) INCLUDE (b));"
        let target =
            "CREATE TABLE inc_v2 (a int, b int, c text, PRIMARY KEY (a) INCLUDE (b)); "
            + "CREATE TABLE inc_by_b (b int PRIMARY KEY, c text);"
        let byA = """
            tables:
              public.inc:
                - into: public.inc_v2
                  key: [a]
                  columns: {a: a, b: b, c: c}
            """
        try await Self.with(legacy: legacy, target: target, tables: byA) { seed in
            let report = try await Check.run(seed.configuration)
            #expect(
                report.problems.isEmpty,
                "a primary key with an INCLUDE column is a key on its own columns: \(report.problems)")
            try await seed.onSource("INSERT INTO inc SELECT g, g * 10, 'row ' || g FROM generate_series(1, 5) g")
            let bridge = try await seed.start()
            #expect(await seed.backfillDone())
            try await seed.onSourceScript(
                "DELETE FROM inc WHERE a = 1; UPDATE inc SET b = 99 WHERE a = 2; "
                    + "INSERT INTO inc VALUES (6, 60, 'new');")
            #expect(try await seed.converges())
            #expect(try await seed.differences() == [])
            bridge.cancel()
            try await bridge.value
        }
        let byB = """
            tables:
              public.inc:
                - into: public.inc_by_b
                  key: [b]
                  columns: {b: b, c: c}
            """
        try await Self.with(legacy: legacy, target: target, tables: byB) { seed in
            let report = try await Check.run(seed.configuration)
            #expect(
                report.problems.contains { $0.contains("reads b, which a delete does not carry") }, "\(report.problems)"
            )
        }
    }

    @Test("""
        a target key unique only through a DEFERRABLE constraint is refused with the fix; a deferrable \
        unique beside the key applies
        """)
    func deferrableKey() async throws {
        let tables = """
            tables:
              public.users:
                - into: public.users_v2
                  key: [id]
                  columns: {id: id, full_name: name, email: email}
            """
        let deferredKey =
            "CREATE TABLE users_v2 (id bigint, full_name text, email text, CONSTRAINT users_v2_pkey "
            + "PRIMARY KEY (id) DEFERRABLE);"
        try await SeedMigration.with(targetSchema: deferredKey, edit: SeedMigration.tables(tables)) { seed in
            let report = try await Check.run(seed.configuration)
            #expect(report.problems.contains {
                $0.contains(#"DEFERRABLE constraint "users_v2_pkey""#)
                        && $0.contains(
                            #"DROP CONSTRAINT "users_v2_pkey", ADD CONSTRAINT "users_v2_pkey" PRIMARY KEY ("id")"#)
            }, "\(report.problems)")
        }
        let deferredEmail =
            "CREATE TABLE users_v2 (id bigint PRIMARY KEY, full_name text, email text UNIQUE "
            + "DEFERRABLE INITIALLY DEFERRED);"
        try await SeedMigration.with(targetSchema: deferredEmail, edit: SeedMigration.tables(tables)) { seed in
            let report = try await Check.run(seed.configuration)
            #expect(report.problems.isEmpty, "\(report.problems)")
            try await seed.onSource("INSERT INTO users (name, email) VALUES ('a', 'a@x'), ('b', 'b@x')")
            let bridge = try await seed.start()
            #expect(await seed.backfillDone())
            try await seed.onSourceScript("""
                BEGIN; UPDATE users SET email = 'tmp' WHERE email = 'a@x'; UPDATE users \
                SET email = 'a@x' WHERE email = 'b@x';
                UPDATE users SET email = 'b@x' WHERE email = 'tmp'; COMMIT;
                """)
            #expect(try await seed.converges())
            #expect(try await seed.differences() == [])
            bridge.cancel()
            try await bridge.value
        }
    }

    @Test("""
        a mapped table with inheriting tables carries its own rows only, in the backfill, the stream and \
        verify, and check says so
        """)
    func inheritance() async throws {
        let legacy = """
            CREATE TABLE m (id bigint PRIMARY KEY, v text);
            CREATE TABLE m_child (extra int) INHERITS (m);
            CREATE TABLE m_nokey () INHERITS (m);
            INSERT INTO m VALUES (1, 'parent'), (2, 'parent');
            INSERT INTO m_child VALUES (3, 'child', 7), (1, 'child with the parent''s id', 8);
            INSERT INTO m_nokey VALUES (4, 'no key');
            """
        let tables = """
            tables:
              public.m:
                - into: public.m_v2
                  key: [id]
                  columns: {id: id, v: v}
            """
        try await Self.with(
            legacy: legacy, target: "CREATE TABLE m_v2 (id bigint PRIMARY KEY, v text);", tables: tables
        ) { seed in
            let report = try await Check.run(seed.configuration)
            #expect(report.problems.isEmpty, "\(report.problems)")
            #expect(
                report.notes.contains {
                    $0.contains("m_child") && $0.contains("m_nokey") && $0.contains("ONLY public.m")
                }, "\(report.notes)")
            let bridge = try await seed.start()
            #expect(await seed.backfillDone())
            #expect(
                try await seed.targetScalar("SELECT string_agg(id::text || ':' || v, ',' ORDER BY id) FROM m_v2")
                    == "1:parent,2:parent")
            // The publication holds m alone: a child without a replica identity still takes updates on the source.
            try await seed.onSourceScript("""
                UPDATE m_nokey SET v = 'updated';
                DELETE FROM m_child WHERE id = 3;
                UPDATE m SET v = 'all' ;
                INSERT INTO m VALUES (5, 'parent');
                INSERT INTO m_child VALUES (6, 'child', 9);
                DELETE FROM m WHERE id = 2;
                """)
            #expect(try await seed.converges())
            #expect(try await seed.differences() == [])
            #expect(try await seed.targetScalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM m_v2") == "1,5")
            let verified = try await Verifier(configuration: seed.configuration).run()
            #expect(verified.mismatchCount == 0, "\(verified.tables.flatMap(\.mismatches))")
            bridge.cancel()
            try await bridge.value
        }
    }

    @Test("""
        an expression of another type than its column is cast to the column's type: an int key into text, \
        beside a TOASTed column
        """)
    func expressionTypes() async throws {
        let legacy = """
            CREATE TABLE items (id int PRIMARY KEY, qty int, note text, price bigint);
            ALTER TABLE items ALTER COLUMN note SET STORAGE EXTERNAL;
            CREATE DOMAIN short_text AS varchar(12) CHECK (VALUE <> '');
            """
        let target = """
            CREATE DOMAIN short_text AS varchar(12) CHECK (VALUE <> '');
            CREATE TABLE items_v2 (code text PRIMARY KEY, qty text, note text, label short_text, price numeric(10,2));
            """
        let tables = """
            tables:
              public.items:
                - into: public.items_v2
                  key: [code]
                  columns: {code: id, qty: qty, note: note, label: "'item ' || id", price: price / 100.0}
            """
        try await Self.with(legacy: legacy, target: target, tables: tables) { seed in
            let report = try await Check.run(seed.configuration)
            #expect(report.problems.isEmpty, "\(report.problems)")
            try await seed.onSource(
                "INSERT INTO items SELECT g, g, $1, g * 1001 FROM generate_series(1, 3) g", [Self.big])
            let bridge = try await seed.start()
            #expect(await seed.backfillDone())
            try await seed.onSourceScript("""
                UPDATE items SET qty = qty + 10;
                INSERT INTO items VALUES (4, 4, 'short', 12345);
                UPDATE items SET id = 40 WHERE id = 4;
                DELETE FROM items WHERE id = 1;
                """)
            #expect(try await seed.converges())
            #expect(try await seed.differences() == [])
            #expect(
                try await seed.targetScalar(
                    "SELECT string_agg(code || '=' || qty || '/' || label || '/' || price, "
                        + "',' ORDER BY code) FROM items_v2")
                == "2=12/item 2/20.02,3=13/item 3/30.03,40=4/item 40/123.45")
            bridge.cancel()
            try await bridge.value
        }
    }
}
