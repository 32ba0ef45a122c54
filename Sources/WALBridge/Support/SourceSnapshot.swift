import PGClient

/// An MVCC snapshot (`pg_current_snapshot()`), in the stream's 32-bit xids: the one a backfill chunk was read with,
/// or a session's current one.
struct SourceSnapshot: Sendable, Equatable {
    /// Every xid before this had finished.
    var xmin: UInt32
    /// Every xid from this on had not.
    var xmax: UInt32
    /// The xids between that were running.
    var running: Set<UInt32>

    init(xmin: UInt32, xmax: UInt32, running: Set<UInt32>) {
        self.xmin = xmin
        self.xmax = xmax
        self.running = running
    }

    /// Parses `xmin:xmax:xip,…` (64-bit xids with their epoch); nil for anything else.
    init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let xmin = UInt64(parts[0]), let xmax = UInt64(parts[1]) else { return nil }
        let running = parts[2].split(separator: ",").map { UInt64($0) }
        guard !running.contains(nil) else { return nil }
        self.init(
            xmin: UInt32(truncatingIfNeeded: xmin), xmax: UInt32(truncatingIfNeeded: xmax),
            running: Set(running.compactMap { $0.map { UInt32(truncatingIfNeeded: $0) } }))
    }

    /// Parses `text`, or says in an error that it is not a snapshot.
    static func parsing(_ text: String) throws -> SourceSnapshot {
        guard let snapshot = SourceSnapshot(text) else {
            throw BridgeError.sourceNotReady("pg_current_snapshot() returned \"\(text)\", which is not a snapshot")
        }
        return snapshot
    }

    /// Whether the snapshot sees what transaction `xid` committed (xids compare modulo 2^32, as PostgreSQL's do).
    func sees(_ xid: UInt32) -> Bool {
        Self.precedes(xid, xmin) || (Self.precedes(xid, xmax) && !running.contains(xid))
    }

    private static func precedes(_ a: UInt32, _ b: UInt32) -> Bool {
        Int32(bitPattern: a &- b) < 0
    }
}

extension SourceSnapshot {
    /// Waits until `connection`'s snapshots see every transaction in `xids`. PostgreSQL makes a commit visible a
    /// moment after writing its record, which the stream may already have delivered: a read or an in-place update
    /// in that moment would miss the transaction's rows.
    static func waitUntilVisible(_ xids: [UInt32], on connection: PGConnection) async throws {
        var waiting = xids
        // A commit held back by a synchronous standby can stay hidden for long: ask less and less often, up to 10 times
        // a second.
        var delay = Duration.milliseconds(1)
        while !waiting.isEmpty {
            let snapshot = try parsing(try await connection.query("SELECT pg_current_snapshot()::text").scalar ?? "")
            waiting.removeAll { snapshot.sees($0) }
            if !waiting.isEmpty {
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .milliseconds(100))
            }
        }
    }
}
