import PGClient
import PGOutput
import Testing
@testable import WALBridge

@Suite("Backfill coordinator")
struct BackfillCoordinatorTests {
    static func chunk(_ seq: Int, after: String?) -> PendingChunk {
        PendingChunk(
            seq: seq, source: 0, rows: [], snapshot: SourceSnapshot(xmin: 1, xmax: 1, running: []),
            after: after.map { [$0] },
            progress: ChunkProgress(
                table: TableName(schema: "public", name: "t"), request: 0, lastKey: nil, rows: 0, done: false))
    }

    @Test("""
        after a discard, chunks read before the worker takes the restart are dropped, so nothing after the \
        restart point is skipped
        """)
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

    @Test("""
        a chunk whose snapshot missed a transaction the stream delivered before the low watermark is read again; one \
        committed inside the window only drops its keys
        """)
    func snapshotLaggingACommit() {
        func text(_ value: String) -> TupleValue { .text(ArraySlice(value.utf8)) }
        let snapshot = SourceSnapshot("4294967396:4294967410:4294967400,4294967405")
        #expect(snapshot == SourceSnapshot(xmin: 100, xmax: 114, running: [104, 109]))
        #expect(
            snapshot!.sees(99) && snapshot!.sees(103) && !snapshot!.sees(104) && !snapshot!.sees(114)
                && !snapshot!.sees(200))
        #expect(SourceSnapshot("12:x:") == nil)
        var chunk = Self.chunk(1, after: nil)
        chunk.snapshot = snapshot!
        chunk.rows = [[text("1"), text("a")], [text("2"), text("b")]]

        var commits = RecentCommits(capacity: 4)
        for xid: UInt32 in [90, 101, 103] { commits.insert(xid) }
        var window = BackfillWindow(seq: 1, source: 0, lsn: LSN(0x100), commitsBefore: commits.count)
        commits.insert(104)
        window.touched = [RowKey([text("2")], at: [0])]
        #expect(
            chunk.placement(in: window, commits: commits, rowKey: [0])?.rows == [[text("1"), text("a")]],
            "committed inside the window: its key is dropped")

        var lagging = RecentCommits(capacity: 4)
        for xid: UInt32 in [90, 101, 109, 103] { lagging.insert(xid) }
        let late = BackfillWindow(seq: 1, source: 0, lsn: LSN(0x100), commitsBefore: lagging.count)
        #expect(
            chunk.placement(in: late, commits: lagging, rowKey: [0]) == nil,
            "109 committed before the window yet the snapshot saw it running")
        for xid: UInt32 in [110, 111, 112, 113] { lagging.insert(xid) }
        #expect(
            chunk.placement(in: late, commits: lagging, rowKey: [0]) != nil,
            "only the last 4 commits are remembered here")
    }
}
