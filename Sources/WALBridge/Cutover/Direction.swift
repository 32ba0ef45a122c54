import PGClient
import PGOutput

/// One direction of replication as the cut-over steers it: its configuration, and sessions to its source and its
/// target (where its `walbridge.control` row lives).
struct Direction {
    let configuration: Configuration
    let source: PGConnection
    let target: PGConnection

    var slot: String { configuration.slot }

    /// The source's current WAL position: the end of every commit made so far.
    func currentLSN() async throws -> LSN {
        // The insert position: a commit made with synchronous_commit = off may not be written out yet.
        guard let lsn = try await source.query("SELECT pg_current_wal_insert_lsn()::text").scalar.flatMap({ LSN($0) })
        else {
            throw BridgeError.sourceNotReady("source: pg_current_wal_insert_lsn() gave no LSN")
        }
        return lsn
    }

    /// Asks the bridge to stop right after `lsn`.
    func pause(at lsn: LSN) async throws {
        try await Control.pause(slot: slot, at: lsn, on: target)
    }

    /// Waits until the bridge reports that it stopped at `lsn`; false when `timeout` passes first, or when no bridge
    /// holds the slot for 5 s (it is not running). Throws the bridge's failure when it reports one. Meanwhile a small
    /// transaction every 20 ms lets the stream pass `lsn` at once, even when nothing else writes the source (the bridge
    /// stops at the first transaction committing after it).
    func waitUntilPaused(at lsn: LSN, timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        var nudged = ContinuousClock.now - .seconds(1)
        var attached = ContinuousClock.now
        var checked = ContinuousClock.now
        while ContinuousClock.now < deadline {
            if ContinuousClock.now - nudged >= .milliseconds(20) {
                try await source.query(TransactionReader.nudge(slot: slot))
                nudged = .now
            }
            if ContinuousClock.now - checked >= .milliseconds(500) {
                checked = .now
                if try await SlotStatus.read(slot, on: source).active { attached = .now }
                if ContinuousClock.now - attached >= .seconds(5) { return false }
            }
            let reported = try await Control.reported(slot: slot, on: target)
            if reported?.state == BridgeState.failed.rawValue {
                throw BridgeError.targetNotReady(
                    "the bridge of slot \(slot) failed while draining: \(reported?.error ?? "?")")
            }
            // The bridge's own word that its stream stopped there, not the request this command wrote.
            if let reported, reported.state == BridgeState.paused.rawValue, reported.stoppedAt == lsn,
                reported.request == PauseRequest(paused: true, atLSN: lsn) { return true }
            try await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    /// Waits until the bridge reports that it streams, unpaused; false when `timeout` passes first.
    func waitUntilStreaming(timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        repeat {
            let reported = try await Control.reported(slot: slot, on: target)
            if let reported, !reported.request.paused, ["streaming", "backfilling"].contains(reported.state ?? "") {
                return true
            }
            try await Task.sleep(for: .milliseconds(10))
        } while ContinuousClock.now < deadline
        return false
    }

    /// Lets the bridge go on.
    func resume() async throws {
        try await Control.resume(slot: slot, on: target)
    }

    /// Waits until the bridge has applied the source's current position; false when `timeout` passes first.
    func caughtUp(within timeout: Duration) async throws -> Bool {
        let lsn = try await currentLSN()
        let deadline = ContinuousClock.now + timeout
        repeat {
            if let applied = try await ProgressState.checkpoint(slot: slot, on: target), applied >= lsn { return true }
            try await Task.sleep(for: .milliseconds(10))
        } while ContinuousClock.now < deadline
        return false
    }

    /// Installs `fence` on the source tables in one transaction, waiting at most `lockTimeout` for their writers.
    func install(_ fence: WriteFence, lockTimeout: Duration) async throws {
        // CREATE OR REPLACE TRIGGER takes SHARE ROW EXCLUSIVE: readers go on.
        try await Self.run(
            fence.install, locking: fence.tables.map(\.table.quoted), mode: "SHARE ROW EXCLUSIVE",
            lockTimeout: lockTimeout, on: source)
    }

    /// Lifts the fence of `slot`'s direction from `database`. Dropping a trigger locks its table ACCESS EXCLUSIVE, so
    /// it
    /// waits at most 5 s for readers (a long query would otherwise hold every later read and write back behind it).
    static func lift(slot: String, on database: PGConnection) async throws {
        let tables = try await WriteFence.fenced(slot: slot, on: database)
        try await run(
            WriteFence.remove(slot: slot) + ";", locking: tables, mode: "ACCESS EXCLUSIVE", lockTimeout: .seconds(5),
            on: database)
    }

    /// Runs `script` in one transaction that first locks `tables` together (`TableLocks`, within `lockTimeout`), so it
    /// never waits for one of them while holding another; rolled back on failure.
    private static func run(
        _ script: String, locking tables: [String], mode: String, lockTimeout: Duration, on database: PGConnection
    ) async throws {
        try await TableLocks.acquire(tables, mode: mode, timeout: lockTimeout, on: database)
        do {
            try await database.simpleQuery("SET LOCAL lock_timeout = '\(lockTimeout.milliseconds)ms'; \(script) COMMIT")
        } catch {
            _ = try? await database.simpleQuery("ROLLBACK")
            throw error
        }
    }
}

extension Duration {
    /// Whole milliseconds, at least 1.
    var milliseconds: Int64 {
        max(1, components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000)
    }
}
