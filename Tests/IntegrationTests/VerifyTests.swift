import Foundation
import PGClient
import Testing
import WALBridge

@Suite("walbridge verify")
struct VerifyTests {
    /// The report of `walbridge verify` (in this process) over the seed migration.
    static func verify(_ seed: SeedMigration, sample: Int? = nil) async throws -> VerifyReport {
        var verifier = Verifier(configuration: seed.configuration)
        verifier.sample = sample
        return try await verifier.run()
    }

    /// A changed value in users_v2, a missing addresses row and an extra products_v2 row, planted in the target.
    static let planted = """
        UPDATE users_v2 SET full_name = 'planted' WHERE id = 5;
        DELETE FROM addresses WHERE user_id = 10;
        INSERT INTO products_v2 (id, name, price) VALUES (9999, 'ghost', 1.00);
        """

    /// The three planted differences, as verify describes them.
    static func expectPlanted(_ report: VerifyReport) {
        let mismatches = report.tables.flatMap(\.mismatches)
        #expect(mismatches.count == 3, "\(mismatches)")
        #expect(mismatches.contains {
            $0.table.description == "public.users_v2" && $0.key == "(id)=(5)" && $0.kind == .changed
                && $0.columns == [Mismatch.ColumnDifference(column: "full_name", source: "user 5", target: "planted")]
        })
        #expect(
            mismatches.contains {
                $0.table.description == "public.addresses" && $0.key == "(user_id)=(10)" && $0.kind == .missing
            })
        #expect(
            mismatches.contains {
                $0.table.description == "public.products_v2" && $0.key == "(id)=(9999)" && $0.kind == .extra
            })
    }

    @Test("""
        a synced pair verifies with zero mismatches while the bridge streams; planted differences (changed value, \
        missing row, extra row) are each found, in full and in a 100% sample, and the command exits 1
        """)
    func plantedDifferences() async throws {
        try await SeedMigration.with { seed in
            try await seed.onSourceScript(BackfillTests.legacyRows(3_000))
            let bridge = try await seed.start()
            #expect(await seed.backfillDone())
            try await seed.onSource("UPDATE users SET name = 'renamed ' || id WHERE id % 100 = 0")
            let synced = try await Self.verify(seed)
            #expect(synced.mismatchCount == 0, "\(synced.tables.flatMap(\.mismatches))")
            #expect(
                synced.point.contains("applied the source up to"), "it waited for the streaming bridge: \(synced.point)"
            )
            #expect(synced.tables.map(\.rows) == [3_000, 1_500, 300])

            let config = try seed.writeConfigFile()
            defer { config.remove() }
            let clean = try CommandRun(["verify", "--config", config.path], environment: config.environment)
            #expect(await clean.wait(timeout: .seconds(60)) == 0, "\(clean.stdout)\(clean.stderr)")
            #expect(clean.stdout.contains("mismatches: 0"), "\(clean.stdout)")

            bridge.cancel()
            _ = try? await bridge.value
            try await PGConnection.connect(seed.target).closing { try await $0.simpleQuery(Self.planted) }
            let full = try await Self.verify(seed)
            #expect(full.point.contains("no bridge is attached"), "\(full.point)")
            Self.expectPlanted(full)
            Self.expectPlanted(try await Self.verify(seed, sample: 10_000))

            let dirty = try CommandRun(["verify", "--config", config.path], environment: config.environment)
            #expect(await dirty.wait(timeout: .seconds(60)) == 1, "\(dirty.stdout)\(dirty.stderr)")
            #expect(
                dirty.stdout.contains("public.users_v2 (id)=(5): full_name: source 'user 5', target 'planted'"),
                "\(dirty.stdout)")
            #expect(dirty.stdout.contains("public.addresses (user_id)=(10): missing in the target"))
            #expect(dirty.stdout.contains("public.products_v2 (id)=(9999): in the target only"))
            #expect(dirty.stdout.contains("mismatches: 3"))
            let sampled = try CommandRun(
                ["verify", "--config", config.path, "--sample", "5000"], environment: config.environment)
            #expect(await sampled.wait(timeout: .seconds(60)) == 1, "\(sampled.stdout)\(sampled.stderr)")
            #expect(sampled.stdout.contains("mismatches: 3"), "\(sampled.stdout)")
        }
    }

    @Test("""
        a planted difference deep inside a 200 kB value is one short report line naming both lengths, md5 \
        prefixes and where they part
        """)
    func longValue() async throws {
        try await SeedMigration.with { seed in
            try await seed.onSourceScript(BackfillTests.legacyRows(100))
            try await seed.onSource("UPDATE users SET name = repeat('x', 200000) WHERE id = 5")
            let bridge = try await seed.start()
            #expect(await seed.backfillDone())
            #expect(try await seed.converges())
            bridge.cancel()
            _ = try? await bridge.value
            try await PGConnection.connect(seed.target).closing {
                try await $0.simpleQuery(
                    "UPDATE users_v2 SET full_name = overlay(full_name placing 'planted' from 150001) WHERE id = 5"
                )
            }
            let sourceHash = try await PGConnection.connect(seed.source).closing {
                try await $0.query("SELECT left(md5(name), 8) FROM users WHERE id = 5").scalar
            }
            let targetHash = try await seed.targetScalar("SELECT left(md5(full_name), 8) FROM users_v2 WHERE id = 5")
            let report = try await Self.verify(seed)
            #expect(
                report.tables.flatMap(\.mismatches).first?.columns.first?.source?.count == 200_000,
                "the report keeps the whole value")

            let config = try seed.writeConfigFile()
            defer { config.remove() }
            let run = try CommandRun(["verify", "--config", config.path], environment: config.environment)
            #expect(await run.wait(timeout: .seconds(60)) == 1, "\(run.stderr)")
            let line = run.stdout.split(separator: "\n").first { $0.contains("(id)=(5)") }.map(String.init) ?? ""
            let prefix = String(repeating: "x", count: 60)
            #expect(line.count < 300, "one short line: \(line.prefix(400))")
            #expect(
                line == "  public.users_v2 (id)=(5): full_name: "
                    + "source '\(prefix)…' (200000 characters, md5 \(sourceHash ?? "?")), "
                    + "target '\(prefix)…' (200000 characters, md5 \(targetHash ?? "?")), "
                    + "first different at character 150001", "\(line.prefix(400))")
            #expect(run.stdout.count < 2_000, "the whole report is short: \(run.stdout.prefix(2_000))")
            #expect(run.stdout.contains("mismatches: 1"))
        }
    }
}
