import Foundation
import PGClient
import Testing
import TestSupport
import WALBridge

/// Two legacy tables merged into one target: the parent's entry inserts the rows, the child's (`insert: never`,
/// `on_delete: clear`) fills its own columns, through a backfill and a concurrent workload.
@Suite("walbridge run: several source tables into one target")
struct ColumnGroupTests {
    /// One merge: the legacy parent and child, the target, the mapping, and the oracle over the source.
    struct Shape {
        let legacy: String
        let target: String
        let tables: String
        let parent: String
        let parentColumns: [String]
        let child: String
        let childKey: String
        let childColumns: [String]
        /// On the source: the target's rows, parent LEFT JOIN child, as text in key order.
        let oracle: String
        /// On the target: the same columns in key order.
        let actual: String
    }

    static let customers = Shape(
        legacy: """
            CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);
            CREATE TABLE customer_prefs (customer_id bigint PRIMARY KEY REFERENCES customers ON DELETE CASCADE \
            ON UPDATE CASCADE, theme text, lang text);
            """,
        target: "CREATE TABLE customers_v2 (id bigint PRIMARY KEY, name text NOT NULL, theme text, lang text);",
        tables: """
            tables:
              public.customers:
                - into: public.customers_v2
                  key: [id]
                  columns: {id: id, name: name}
              public.customer_prefs:
                - into: public.customers_v2
                  key: [id]
                  insert: never
                  on_delete: clear
                  columns: {id: customer_id, theme: theme, lang: lang}
            """,
        parent: "customers", parentColumns: ["name"], child: "customer_prefs", childKey: "customer_id",
        childColumns: ["theme", "lang"],
        oracle: "SELECT c.id::text, c.name, p.theme, p.lang FROM customers c LEFT JOIN customer_prefs p ON "
            + "p.customer_id = c.id ORDER BY c.id",
        actual: "SELECT id::text, name, theme, lang FROM customers_v2 ORDER BY customers_v2.id")

    /// The seed migration reversed: `users_v2` and `addresses` back into one wide `users`.
    static let users = Shape(
        legacy: """
            CREATE TABLE users_v2 (id bigint PRIMARY KEY, full_name text NOT NULL, email text);
            CREATE TABLE addresses (user_id bigint PRIMARY KEY REFERENCES users_v2 ON DELETE CASCADE \
            ON UPDATE CASCADE, street text, city text, postal_code text);
            """,
        target: """
            CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL, email text,
                                address_street text, address_city text, address_postal_code text);
            """,
        tables: """
            tables:
              public.users_v2:
                - into: public.users
                  key: [id]
                  columns: {id: id, name: full_name, email: email}
              public.addresses:
                - into: public.users
                  key: [id]
                  insert: never
                  on_delete: clear
                  columns: {id: user_id, address_street: street, address_city: city, address_postal_code: postal_code}
            """,
        parent: "users_v2", parentColumns: ["full_name", "email"], child: "addresses", childKey: "user_id",
        childColumns: ["street", "city", "postal_code"],
        oracle: """
            SELECT u.id::text, u.full_name, u.email, a.street, a.city, a.postal_code
            FROM users_v2 u LEFT JOIN addresses a ON a.user_id = u.id ORDER BY u.id
            """,
        actual: "SELECT id::text, name, email, address_street, address_city, address_postal_code FROM "
            + "users ORDER BY users.id")

    @Test("""
        customers and customer_prefs merge into customers_v2: backfill and a seeded concurrent workload end equal to \
        parent LEFT JOIN child, verify agrees, and finds a planted group column
        """,
        arguments: [1, 2] as [UInt64])
    func customersMerge(seed: UInt64) async throws {
        try await Self.merge(
            Self.customers, seed: seed,
            plant: "UPDATE customers_v2 SET lang = 'planted' WHERE id = (SELECT min(id) "
                + "FROM customers_v2 WHERE lang IS NOT NULL) RETURNING id::text")
    }

    @Test("users_v2 and addresses merge back into users (the seed reversed), with the same checks")
    func usersMerge() async throws {
        try await Self.merge(
            Self.users, seed: 3,
            plant: "UPDATE users SET address_city = 'planted' WHERE id = (SELECT min(id) "
                + "FROM users WHERE address_city IS NOT NULL) RETURNING id::text")
    }

    /// Seeds 3,000 parents (two in three with a child), starts the bridge, runs a workload while it copies, then
    /// compares.
    static func merge(_ shape: Shape, seed: UInt64, plant: String) async throws {
        try await SeedMigration.with(
            legacySchema: shape.legacy, targetSchema: shape.target, edit: SeedMigration.tables(shape.tables)
        ) { migration in
            let parentValues = shape.parentColumns.map { "'\($0) ' || g" }.joined(separator: ", ")
            let childValues = shape.childColumns.map { "'\($0) ' || g" }.joined(separator: ", ")
            try await migration.onSourceScript("""
                INSERT INTO \(shape.parent) (id, \(shape.parentColumns.joined(separator: ", "))) SELECT g, \
                \(parentValues) FROM generate_series(1, 3000) g;
                INSERT INTO \(shape.child) (\(shape.childKey), \(shape.childColumns.joined(separator: ", "))) \
                SELECT g, \(childValues) FROM generate_series(1, 3000) g WHERE g % 3 <> 0;
                """)
            // check: the statements, UPDATEs and clears included, compile against the target, and the plan says what
            // they are.
            let check = try await Check.run(migration.configuration)
            #expect(check.problems.isEmpty, "\(check.problems)")
            #expect(
                check.plan.contains { $0.contains("insert: never: updates only the rows it holds, on_delete: clear") },
                "\(check.plan)")
            var limits = BackfillLimits()
            limits.chunkRows = 200
            limits.rowsPerSecond = 1_500
            let bridge = try await migration.start(backfill: limits)
            // The workload starts while the child's rows are still to be copied.
            #expect(try await migration.backfillStates()["public.\(shape.child)"] != "done")
            // While the backfill copies, and again once it is done (the stream alone then orders the two tables'
            // writes).
            var random = SplitMix64(seed: seed)
            var next = 10_000
            let during = try await workload(shape, steps: 1_000, next: &next, random: &random, migration)
            #expect(during.together > 0 && during.alone > 0)
            #expect(await migration.backfillDone())
            _ = try await workload(shape, steps: 500, next: &next, random: &random, migration)
            // In one transaction each: a parent and its child inserted; five parents deleted (their children cascade)
            // and four new ones inserted with children.
            let parentList = shape.parentColumns.joined(separator: ", ")
            let childList = shape.childColumns.joined(separator: ", ")
            let parentValues2 = shape.parentColumns.map { _ in "'again'" }.joined(separator: ", ")
            let childValues2 = shape.childColumns.map { _ in "'again'" }.joined(separator: ", ")
            try await migration.onSourceScript("""
                BEGIN;
                INSERT INTO \(shape.parent) (id, \(parentList)) VALUES (90001, \(parentValues2));
                INSERT INTO \(shape.child) (\(shape.childKey), \(childList)) VALUES (90001, \(childValues2));
                COMMIT;
                BEGIN;
                DELETE FROM \(shape.parent) WHERE id IN (SELECT \(shape.childKey) \
                FROM \(shape.child) ORDER BY 1 LIMIT 5);
                INSERT INTO \(shape.parent) (id, \(parentList)) SELECT id, \(parentValues2) \
                FROM generate_series(90002, 90005) id;
                INSERT INTO \(shape.child) (\(shape.childKey), \(childList)) SELECT id, \
                \(childValues2) FROM generate_series(90002, 90005) id;
                COMMIT;
                """)
            let converged = await TestClusters.eventually(timeout: .seconds(60)) {
                (try? await differences(shape, migration).isEmpty) == true
            }
            let left = try await differences(shape, migration)
            #expect(converged, "\(left)")
            let synced = try await Verifier(configuration: migration.configuration).run()
            #expect(synced.tables.count == 1, "one verification per shared target")
            #expect(synced.mismatchCount == 0, "\(synced.tables.flatMap(\.mismatches))")
            let rows = try await PGConnection.connect(migration.source).closing {
                try await $0.query("SELECT count(*)::text FROM \(shape.parent)").scalar
            }
            #expect(synced.tables.first.map { String($0.rows) } == rows)

            bridge.cancel()
            _ = try? await bridge.value
            let planted = try await PGConnection.connect(migration.target).closing { try await $0.query(plant).scalar }
            let dirty = try await Verifier(configuration: migration.configuration).run()
            let mismatches = dirty.tables.flatMap(\.mismatches)
            #expect(mismatches.count == 1, "\(mismatches)")
            #expect(
                mismatches.first?.key == "(id)=(\(planted ?? ""))" && mismatches.first?.kind == .changed,
                "\(mismatches)")
            #expect(mismatches.first?.columns.map(\.target) == ["planted"], "\(mismatches)")
        }
    }

    /// Runs `steps` transactions on the source, some of two to four changes, the others of one; counts each kind.
    static func workload(
        _ shape: Shape, steps: Int, next: inout Int, random: inout SplitMix64, _ migration: SeedMigration
    ) async throws -> (together: Int, alone: Int) {
        let app = try await PGConnection.connect(migration.source)
        var transactions = (together: 0, alone: 0)
        do {
            for step in 0..<steps {
                let together = random.chance(0.3)
                if together { try await app.query("BEGIN") }
                for _ in 0..<(together ? random.int(2...4) : 1) {
                    try await change(shape, on: app, next: &next, step: step, random: &random)
                }
                if together {
                    try await app.query("COMMIT")
                    transactions.together += 1
                } else {
                    transactions.alone += 1
                }
            }
        } catch {
            await app.close()
            throw error
        }
        await app.close()
        return transactions
    }

    /// One random change to the parent or the child: inserts, updates, key changes and deletes of either.
    static func change(
        _ shape: Shape, on app: PGConnection, next: inout Int, step: Int, random: inout SplitMix64
    ) async throws {
        let id = String(random.int(1...3_500))
        let value = "v\(step)"
        let parentSet = shape.parentColumns.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
        let childSet = shape.childColumns.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
        let parentParameters = shape.parentColumns.indices.map { "$\($0 + 2)" }.joined(separator: ", ")
        let childParameters = shape.childColumns.indices.map { "$\($0 + 2)" }.joined(separator: ", ")
        switch random.int(0...8) {
        case 0:
            // A new parent, with a child most of the time.
            next += 1
            try await app.query(
                "INSERT INTO \(shape.parent) (id, \(shape.parentColumns.joined(separator: ", "))) "
                    + "VALUES ($1::bigint, \(parentParameters))",
                [String(next)] + shape.parentColumns.map { _ in value })
            if random.chance(0.7) {
                try await app.query(
                    "INSERT INTO \(shape.child) (\(shape.childKey), \(shape.childColumns.joined(separator: ", "))) "
                        + "VALUES ($1::bigint, \(childParameters))",
                    [String(next)] + shape.childColumns.map { _ in value })
            }
        case 1:
            try await app.query(
                "INSERT INTO \(shape.parent) (id, \(shape.parentColumns.joined(separator: ", "))) VALUES ($1::bigint, "
                    + "\(parentParameters)) ON CONFLICT (id) DO UPDATE SET \(parentSet)",
                [id] + shape.parentColumns.map { _ in value })
        case 2, 3:
            // A child for a parent that exists: inserted, or its columns changed.
            try await app.query(
                "INSERT INTO \(shape.child) (\(shape.childKey), \(shape.childColumns.joined(separator: ", "))) "
                    + "SELECT $1::bigint, \(childParameters) WHERE EXISTS (SELECT 1 FROM \(shape.parent) "
                    + "WHERE id = $1::bigint) ON CONFLICT (\(shape.childKey)) "
                    + "DO UPDATE SET \(childSet)",
                [id] + shape.childColumns.map { _ in random.chance(0.2) ? nil : value })
        case 4:
            try await app.query(
                "UPDATE \(shape.child) SET \(shape.childColumns[0]) = NULL WHERE \(shape.childKey) = $1::bigint", [id])
        case 5:
            try await app.query("DELETE FROM \(shape.child) WHERE \(shape.childKey) = $1::bigint", [id])
        case 6:
            // Cascades to the child.
            try await app.query("DELETE FROM \(shape.parent) WHERE id = $1::bigint", [id])
        case 7:
            // A key change, which cascades to the child's key.
            next += 1
            try await app.query("UPDATE \(shape.parent) SET id = $2::bigint WHERE id = $1::bigint", [id, String(next)])
        default:
            try await app.query(
                "UPDATE \(shape.parent) SET \(shape.parentColumns[0]) = $2 WHERE id = $1::bigint", [id, value])
        }
    }

    /// The oracle against the target: one line per differing row, or the row counts.
    static func differences(_ shape: Shape, _ migration: SeedMigration) async throws -> [String] {
        let expected = try await PGConnection.connect(migration.source).closing {
            try await $0.query(shape.oracle).rows
        }
        let actual = try await PGConnection.connect(migration.target).closing { try await $0.query(shape.actual).rows }
        guard expected != actual else { return [] }
        let first = zip(expected, actual).first { $0 != $1 }.map { "\($0) vs \($1)" } ?? "in the extra rows"
        return ["expected \(expected.count) rows, target has \(actual.count); first difference: \(first)"]
    }
}
