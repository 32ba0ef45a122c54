import Foundation
import PGClient
import Testing
import WALBridge

/// Rows read back from the source for the TOAST values an update left out, while the source has moved on.
@Suite("walbridge run reading rows back from the source")
struct ReadBackTests {
    @Test("a row whose sent values and values read back are refused together goes in as the source holds it now")
    func refusedCombination() async throws {
        let legacy = """
            CREATE TABLE docs (id int PRIMARY KEY, kind text NOT NULL, note text, body text);
            ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;
            INSERT INTO docs VALUES (1, 'json', NULL, '{"pad": "' || repeat('x', 9000) || '"}');
            """
        let target = "CREATE TABLE docs_v2 (id int PRIMARY KEY, note text, parsed jsonb);"
        let tables = """
            tables:
              public.docs:
                - into: public.docs_v2
                  key: [id]
                  columns: {id: id, note: note, parsed: "CASE WHEN kind = 'json' THEN body::jsonb END"}
            """
        try await SeedMigration.with(legacySchema: legacy, targetSchema: target, edit: SeedMigration.tables(tables)) {
            seed in
            let first = try await seed.start()
            #expect(await seed.backfillDone())
            first.cancel()
            _ = await first.result
            // The first update leaves the body out; by the time it is read back, it is no longer JSON.
            try await seed.onSource("UPDATE docs SET note = 'x' WHERE id = 1")
            try await seed.onSource("UPDATE docs SET kind = 'text', body = repeat('not json ', 2000) WHERE id = 1")
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
