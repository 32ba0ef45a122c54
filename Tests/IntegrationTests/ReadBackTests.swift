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

    @Test("a change the target refuses for a value it sent, with a TOAST value left out, stops the bridge")
    func refusedSentValue() async throws {
        let legacy = """
            CREATE TABLE scores (id int PRIMARY KEY, score int, bio text);
            ALTER TABLE scores ALTER COLUMN bio SET STORAGE EXTERNAL;
            INSERT INTO scores VALUES (1, 5, repeat('bio ', 3000)), (2, 7, repeat('bio ', 3000));
            """
        let target = "CREATE TABLE profiles (id int PRIMARY KEY, score int CHECK (score >= 0), bio text);"
        let tables = """
            tables:
              public.scores:
                - into: public.profiles
                  key: [id]
                  columns: {id: id, score: score, bio: bio}
            """
        try await SeedMigration.with(legacySchema: legacy, targetSchema: target, edit: SeedMigration.tables(tables)) {
            seed in
            let bridge = try await seed.start()
            #expect(await seed.backfillDone())
            try await seed.onSource("UPDATE scores SET score = -1 WHERE id = 1")
            let stopped = await TestClusters.eventually(timeout: .seconds(30)) {
                if case .failure = await bridge.result { true } else { false }
            }
            #expect(stopped, "the refused change stops the bridge")
            if case .failure(let error) = await bridge.result {
                let message = BridgeError.message(for: error) ?? "\(error)"
                #expect(message.contains("23514") && message.contains("profiles"), "\(message)")
            }
            let row = try await seed.targetScalar("SELECT score || ':' || length(bio) FROM profiles WHERE id = 1")
            #expect(row == "5:12000", "the target row stays as it was: \(row ?? "gone")")
        }
    }
}
