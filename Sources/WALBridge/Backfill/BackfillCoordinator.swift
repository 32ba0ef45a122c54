import Logging
import PGClient
import PGOutput

// Why a chunk written at its high watermark is exact (the argument the tests check):
//
// The backfill writes a low watermark L to the source, reads a chunk in a REPEATABLE READ transaction
// with snapshot S (taken after L), then writes a high watermark H. The stream delivers every transaction
// at its commit, in commit order, and the watermarks in WAL order, so a transaction that committed before H
// was delivered (and applied) before H. For a row key k of the chunk:
//  - A transaction visible to S committed before S was taken, so before H: the stream applied it before H,
//    and the chunk's value of k already includes it.
//  - A transaction not visible to S that committed before H changed k, or it did not. If it committed
//    inside the window [L, H), the reader saw k change there, and the chunk's row for k is dropped: the
//    stream has already written k as it stands at H. If it committed before L, S would normally have seen
//    it; but PostgreSQL writes a commit record before it makes the commit visible, so a transaction can
//    come before L in the stream and still be invisible to S. The reader checks the commits it saw before L
//    against S's xmin, xmax and running list; if one is invisible to S, the whole chunk is discarded and
//    read again.
//  - A transaction committing after H is applied after the chunk, like any later change.
// So every row the chunk writes holds exactly the value the source had at H, and the stream's newer
// versions always win. The check before L relies on the reader remembering the last 65,536 commits: a
// transaction whose visibility lagged its commit record by more commits than that would not be caught.

/// Hands chunks from the backfill worker to the stream at their high watermarks, and tells the worker
/// when one has to be read again.
actor BackfillCoordinator {
    private var pending: [Int: PendingChunk] = [:]
    /// Set when the stream stops: nothing will be placed any more, so no wait may last.
    private var closed = false
    /// Chunks taken by the stream whose placement is not decided yet.
    private var deciding = 0
    /// Chunks placed in the stream that the applier has not taken yet (they hold memory too).
    private var placedUnapplied = 0
    private var restart: (source: Int, after: [String]?)?
    private var roomWaiters: [CheckedContinuation<Void, Never>] = []
    private var resolvedWaiters: [CheckedContinuation<Void, Never>] = []
    /// Rows placed in the stream per source table (the worker's progress figures).
    private(set) var rowsPlaced: [Int: Int] = [:]

    /// Adds a chunk the worker has read; its high watermark goes to the source next. A chunk read while a restart
    /// waits for the worker is dropped: the worker reads its rows again from the restart point.
    func deposit(_ chunk: PendingChunk) {
        guard restart == nil else { return }
        pending[chunk.seq] = chunk
    }

    /// Waits until fewer than `limit` chunks are read and not yet taken by the applier.
    func waitForRoom(limit: Int) async {
        while !closed && pending.count + deciding + placedUnapplied >= limit {
            await withCheckedContinuation { roomWaiters.append($0) }
        }
    }

    /// Waits until every chunk read so far has been placed or discarded.
    func waitUntilResolved() async {
        while !closed && (!pending.isEmpty || deciding > 0) {
            await withCheckedContinuation { resolvedWaiters.append($0) }
        }
    }

    /// Whether a discarded chunk is waiting to be read again.
    var hasRestart: Bool { restart != nil }

    /// Where the worker must read again after a discarded chunk (once).
    func takeRestart() -> (source: Int, after: [String]?)? {
        defer { restart = nil }
        return restart
    }

    /// Replaces each closed backfill window among `events` with its chunk's rows, or drops it: stale, or to be read
    /// again when a transaction the chunk's snapshot missed committed before the window (`commits`).
    func place(_ events: [ApplyEvent], commits: RecentCommits, plan: MappingPlan, logger: Logger) -> [ApplyEvent] {
        var placed: [ApplyEvent] = []
        for event in events {
            guard case .backfillWindow(let window) = event else {
                placed.append(event)
                continue
            }
            guard let chunk = take(window.seq) else { continue }
            if let rows = chunk.placement(in: window, commits: commits, rowKey: plan.sources[window.source].rowKey) {
                self.placed(chunk)
                placed.append(.backfill(rows))
            } else {
                logger.debug(
                    "backfill chunk must be read again",
                    metadata: ["table": "\(plan.sources[window.source].info.table)", "at": "\(window.lsn)"])
                discard(chunk)
            }
        }
        return placed
    }

    /// Takes the chunk for a closed window, to be `placed` or `discard`ed next; nil when the window is stale
    /// (an earlier run, or a discarded chunk).
    func take(_ seq: Int) -> PendingChunk? {
        guard let chunk = pending.removeValue(forKey: seq) else { return nil }
        deciding += 1
        return chunk
    }

    /// Counts a chunk that was placed in the stream.
    func placed(_ chunk: PendingChunk) {
        rowsPlaced[chunk.source, default: 0] += chunk.rows.count
        deciding -= 1
        placedUnapplied += 1
        wake()
    }

    /// The applier has taken a placed chunk's rows.
    func applied() {
        placedUnapplied = max(placedUnapplied - 1, 0)
        wake()
    }

    /// Discards a chunk that could not be placed, and every later one: the worker reads again from where it started.
    func discard(_ chunk: PendingChunk) {
        deciding -= 1
        pending = pending.filter { $0.key < chunk.seq }
        // A restart the worker has not taken yet starts at or before this chunk: keep it, or the rows between would be
        // skipped.
        if restart == nil { restart = (chunk.source, chunk.after) }
        wake()
    }

    /// Ends every wait: the stream has stopped, and the worker is being cancelled.
    func close() {
        closed = true
        wake()
    }

    private func wake() {
        for waiter in roomWaiters { waiter.resume() }
        roomWaiters.removeAll()
        if closed || (pending.isEmpty && deciding == 0) {
            for waiter in resolvedWaiters { waiter.resume() }
            resolvedWaiters.removeAll()
        }
    }
}
