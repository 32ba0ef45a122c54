import Foundation
import PGClient
import Testing
@testable import WALBridge

@Suite("walbridge check, the round trip through reverse:")
struct RoundTripTests {
    /// The seed's legacy schema without `bio`, which the new schema does not keep.
    static let legacySchema = """
        CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL, email text UNIQUE,
                            address_street text, address_city text, address_postal_code text);
        CREATE TABLE products (id bigserial PRIMARY KEY, name text NOT NULL, price bigint NOT NULL);
        """

    /// Users with and without an address, and prices in cents.
    static let legacyRows = """
        INSERT INTO users (name, email, address_street, address_city, address_postal_code)
        SELECT 'user ' || g, 'u' || g || '@example.com', CASE WHEN g % 2 = 0 THEN g || ' Main St' END,
               CASE WHEN g % 2 = 0 THEN 'Springfield' END, CASE WHEN g % 2 = 0 THEN lpad(g::text, 5, '0') END
        FROM generate_series(1, 300) g;
        INSERT INTO products (name, price) SELECT 'product ' || g, 1000 + g * 37 FROM generate_series(1, 200) g;
        """

    /// The reverse of the seed migration, one entry per new table (`columns` of users_v2 and products_v2 replaceable).
    static func reverse(
        users: String = "name: full_name", products: String? = "price: (price * 100)::integer"
    ) -> String {
        let productsEntry = products.map { """
              public.products_v2:
                - into: public.products
                  key: [id]
                  columns:
                    id: id
                    name: name
                    \($0)

            """ } ?? ""
        return """

            reverse:
              public.users_v2:
                - into: public.users
                  key: [id]
                  columns:
                    id: id
                    \(users)
                    email: email
              public.addresses:
                - into: public.users
                  key: [id]
                  columns:
                    id: user_id
                    address_street: street
                    address_city: city
                    address_postal_code: postal_code
            \(productsEntry)
            """
    }

    /// Runs `body` with the seed schemas (legacy without bio unless told), `legacyRows`, and `reverse` appended.
    static func with(
        legacySchema: String = legacySchema, targetSchema: String = SeedMigration.newSchema,
        reverse: String = reverse(), _ body: (SeedMigration) async throws -> Void
    ) async throws {
        try await SeedMigration.with(
            legacySchema: legacySchema, targetSchema: targetSchema, edit: { $0 + reverse }
        ) { seed in
            try await seed.onSourceScript(legacyRows)
            try await body(seed)
        }
    }

    @Test("the seed pair round-trips: check passes with a round trip section, in this process and as the command")
    func seedPair() async throws {
        try await Self.with { seed in
            let report = try await Check.run(seed.configuration)
            #expect(report.problems.isEmpty, "\(report.problems)")
            #expect(
                report.roundTrip.contains("public.users: 300 sampled rows, 6 columns compared; every one round-trips"),
                "\(report.roundTrip)")
            #expect(
                report.roundTrip.contains(
                    "public.products: 200 sampled rows, 3 columns compared; every one round-trips"),
                "\(report.roundTrip)")

            let small = try await RoundTrip.prove(seed.configuration, sample: 10)
            #expect(
                small.problems.isEmpty && small.summary.first?.hasPrefix("public.users: 10 sampled rows") == true,
                "\(small)")

            let config = try seed.writeConfigFile(edit: { $0 + Self.reverse() })
            defer { config.remove() }
            let run = try CommandRun(
                ["check", "--config", config.path, "--round-trip-sample", "50"], environment: config.environment)
            #expect(await run.wait(timeout: .seconds(60)) == 0, "\(run.stdout)\(run.stderr)")
            #expect(run.stdout.contains("round trip:\n  public.users: 50 sampled rows"), "\(run.stdout)")
        }
    }

    @Test("""
        cents to numeric(10,2) and back is exact; into numeric(10,0), or back through round(price), price does not \
        round-trip, and the command exits 1
        """)
    func lossyPrice() async throws {
        let wholeDollars = SeedMigration.newSchema.replacing("price numeric(10,2)", with: "price numeric(10,0)")
        try await Self.with(targetSchema: wholeDollars) { seed in
            let report = try await RoundTrip.prove(seed.configuration)
            #expect(report.problems.count == 1, "\(report.problems)")
            // Product 1 costs 1037 cents: 10.37 dollars, kept as 10, which comes back as 1000; 4700 and 8400 come back.
            #expect(
                report.problems.first
                    == "public.products.price does not round-trip on 198 of 200 sampled rows: (id)=(1): "
                    + "1037 became 1000 (a lossy cast or expression?)", "\(report.problems)")

            let config = try seed.writeConfigFile(edit: { $0 + Self.reverse() })
            defer { config.remove() }
            let run = try CommandRun(["check", "--config", config.path], environment: config.environment)
            #expect(await run.wait(timeout: .seconds(60)) == 1, "\(run.stdout)\(run.stderr)")
            #expect(
                run.stdout.contains("public.products: 200 sampled rows, 3 columns compared; price does not round-trip"),
                "\(run.stdout)")
            #expect(run.stderr.contains("walbridge: error: public.products.price does not round-trip"), "\(run.stderr)")
        }
        try await Self.with(reverse: Self.reverse(products: "price: round(price)")) { seed in
            let problems = try await RoundTrip.prove(seed.configuration).problems
            #expect(
                problems.count == 1
                    && problems[0].hasPrefix(
                        "public.products.price does not round-trip on 200 of 200 sampled rows: "
                            + "(id)=(1): 1037 became 10 "
                    ), "\(problems)")
        }
    }

    @Test("a legacy value a group's when leaves out comes back NULL")
    func whenLeavesOut() async throws {
        try await Self.with { seed in
            try await seed.onSource("UPDATE users SET address_city = 'Nowhere' WHERE id = 7")
            let problems = try await RoundTrip.prove(seed.configuration).problems
            #expect(
                problems == [
                    "public.users.address_city does not round-trip on 1 of 300 sampled rows: (id)=(7): "
                        + "Nowhere became NULL (no reverse entry gives it a value)"
                ])
        }
    }

    @Test("a legacy column that no reverse entry writes is named")
    func columnWithoutReverseSource() async throws {
        try await Self.with(legacySchema: SeedMigration.legacySchema) { seed in
            let report = try await Check.run(seed.configuration)
            #expect(
                report.problems == [
                    "public.users.bio has no reverse source: rows the new schema inserts leave it to its default"
                ])
        }
    }

    @Test("a reverse expression sees only the new table's columns: name, which only the legacy table has, fails")
    func reverseSeesOnlyTheNewRow() async throws {
        try await Self.with(reverse: Self.reverse(users: "name: name")) { seed in
            let problems = try await RoundTrip.prove(seed.configuration).problems
            #expect(problems.count == 1, "\(problems)")
            #expect(
                problems.first?.contains(".columns.name: does not compile against the columns of public.users_v2")
                    == true, "\(problems)")
            #expect(problems.first?.contains("column \"name\" does not exist") == true, "\(problems)")

            // The values statement on its own: name does not resolve to the legacy row's column there either.
            let users = try #require(seed.configuration.tables.first)
            let legs = try #require(seed.configuration.reverse).filter { $0.source.name != "products_v2" }.enumerated()
                .map { index, table in
                RoundTripQuery.Leg(reverse: table.targets[0], forward: index)
            }
            let query = RoundTripQuery(
                table: users.source, key: ["id"], ordered: true,
                legacy: ["id", "name", "email", "address_street", "address_city", "address_postal_code"].map {
                    (name: $0, type: $0 == "id" ? "bigint" : "text")
                },
                forward: [
                    (
                        mapping: users.targets[0],
                        columns: [
                            (name: "email", type: "text"), (name: "full_name", type: "text"),
                            (name: "id", type: "bigint")
                        ]
                    ),
                    (
                        mapping: users.targets[1],
                        columns: [
                            (name: "city", type: "text"), (name: "postal_code", type: "text"),
                            (name: "street", type: "text"), (name: "user_id", type: "bigint")
                        ]
                    ),
                ], legs: legs)
            let error = await #expect(throws: PGError.self) {
                try await PGConnection.connect(seed.source).closing { try await $0.query(query.sql, ["10"]) }
            }
            #expect(error?.message.contains("column \"name\" does not exist") == true, "\(String(describing: error))")
        }
    }

    @Test("a legacy table that no reverse entry feeds is named with the new tables whose writes would not reach it")
    func tableWithoutReverse() async throws {
        try await Self.with(reverse: Self.reverse(products: nil)) { seed in
            let report = try await Check.run(seed.configuration)
            #expect(
                report.problems == [
                    "public.products has no reverse mapping; writes to public.products_v2 after the "
                        + "cut-over would not reach it"
                ])
            #expect(report.roundTrip == ["public.users: 300 sampled rows, 6 columns compared; every one round-trips"])
        }
    }
}
