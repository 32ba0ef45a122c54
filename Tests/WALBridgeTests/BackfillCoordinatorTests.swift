import PGClient
import Testing
@testable import WALBridge

@Suite("Backfill coordinator")
struct BackfillCoordinatorTests {
    static func chunk(_ seq: Int, after: String?) -> PendingChunk {
        PendingChunk(seq: seq, source: 0, rows: [], committedUnseen: [], after: after.map { [$0] }, progress: Statement("SELECT 1"))
    }

    @Test("after a discard, chunks read before the worker takes the restart are dropped, so nothing after the restart point is skipped")
    func restartKeepsTheEarliestPoint() async {
        let coordinator = BackfillCoordinator()
        await coordinator.deposit(Self.chunk(5, after: "400"))
        await coordinator.deposit(Self.chunk(6, after: "500"))
        let fifth = await coordinator.take(5)
        #expect(fifth != nil)
        await coordinator.discard(fifth!)
        #expect(await coordinator.take(6) == nil, "a later chunk read before the discard is dropped")

        // Read in the old order before the worker saw the restart: dropped, so it is neither placed nor discarded
        // (a discard would have moved the restart past the rows after 400).
        await coordinator.deposit(Self.chunk(7, after: "600"))
        #expect(await coordinator.take(7) == nil)
        let restart = await coordinator.takeRestart()
        #expect(restart?.after == ["400"], "the rows after 400 are read again, not only those after 600")
        #expect(await coordinator.takeRestart() == nil)

        // After the worker took the restart, chunks are placed again.
        await coordinator.deposit(Self.chunk(8, after: "400"))
        #expect(await coordinator.take(8) != nil)
    }
}
