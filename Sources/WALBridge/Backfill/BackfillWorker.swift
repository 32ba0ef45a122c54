import Foundation
import Logging
import PGClient
import PGOutput

/// Copies the rows that existed before streaming began, table by table (a shared target's inserting table first) in
/// row-key order, one chunk per short source transaction between two watermarks; the reader places each chunk in the
/// stream (see BackfillCoordinator).
struct BackfillWorker: Sendable {
    let plan: MappingPlan
    let configuration: Configuration
    let run: String
    let coordinator: BackfillCoordinator
    let limits: BackfillLimits
    /// Whether chunks go to writer sessions, which take the target columns the source computes (see SourceEvaluation).
    let computesOnSource: Bool
    let logger: Logger
    /// Receives progress after every chunk; without it, progress is logged every 5 seconds.
    let report: (@Sendable (BackfillReport) -> Void)?

    /// Copies every table whose backfill is due, then waits for new requests (`walbridge backfill`) until cancelled.
    func run() async throws {
        try await PGConnection.connect(configuration.source.connectionString, applicationName: "walbridge backfill")
            .closing { source in
            try await SourceCheck.connect(configuration.target, role: "target").closing { target in
                try await source.simpleQuery(StableOutput.settings + "; SET synchronous_commit = local")
                try await copyAll(source: source, target: target)
            }
        }
    }

    private func copyAll(source: PGConnection, target: PGConnection) async throws {
        var seq = 0
        // The request each table was last copied for in this run: its `done` may still be on its way to the target.
        var finished: [Int: Int] = [:]
        while !Task.isCancelled {
            var copied = false
            // A table that only updates a shared target's rows goes after the tables that insert them, and a table
            // feeding a child after those feeding its parents; not in a round where one of those stopped early.
            var unfinished = Set<Int>()
            for index in plan.inApplyOrder(Array(plan.sources.indices)) {
                // Not in a round where a predecessor stopped early or was left for the next round itself.
                guard plan.predecessors[index].isDisjoint(with: unfinished) else {
                    unfinished.insert(index)
                    continue
                }
                let table = plan.sources[index].info.table
                guard let job = try await BackfillState.claim(
                    slot: configuration.slot, table: table, auto: configuration.backfill == .auto, on: target),
                    finished[index] != job.request
                else { continue }
                copied = true
                let estimate =
                    try await source.query(
                        "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = $1",
                        [String(plan.sources[index].info.oid)]
                    ).scalar.flatMap { Int($0) } ?? 0
                try await BackfillState.recordEstimate(estimate, slot: configuration.slot, table: table, on: target)
                if try await copy(index, job, estimate: estimate, seq: &seq, source: source, target: target) {
                    finished[index] = job.request
                } else {
                    unfinished.insert(index)
                }
            }
            if !copied { try await Task.sleep(for: .seconds(1)) }
        }
    }

    /// Copies one table from where its job stands; false when it stopped early (the table was requested again
    /// meanwhile).
    private func copy(
        _ index: Int, _ job: BackfillJob, estimate: Int, seq: inout Int, source: PGConnection, target: PGConnection
    ) async throws -> Bool {
        let sourcePlan = plan.sources[index]
        let table = sourcePlan.info.table
        guard sourcePlan.info.hasUniqueRowKey else {
            throw BridgeError.sourceNotReady(
                "source: \(table) has REPLICA IDENTITY FULL but no primary key, "
                    + "so its existing rows cannot be copied in key order; add a primary key or REPLICA IDENTITY USING "
                    + "INDEX with a unique index")
        }
        let chunkRows = min(limits.chunkRows, max(limits.rowsPerSecond ?? .max, 1))
        var evaluation: SourceEvaluation?
        var direct: [DirectCopy?] = []
        if computesOnSource {
            direct = try await DirectCopy.plan(sourcePlan, on: target)
            evaluation = try await SourceEvaluation.plan(
                sourcePlan, direct: direct, on: source, target: target, logger: logger)
        }
        let query = ChunkQuery(sourcePlan, evaluation: evaluation)
        // Rows per chunk, fewer for wide rows: about `chunkBytes` a chunk.
        var limit = chunkRows
        var after = job.lastKey
        let started = ContinuousClock.now
        var read = 0
        var lastLog = started
        let placedBefore = await coordinator.rowsPlaced[index] ?? 0
        logger.info("backfill started", metadata: [
                "table": "\(table)", "estimated_rows": "\(estimate)",
                "from": "\(after.map { "after key \($0)" } ?? "the first row")",
        ])
        while !Task.isCancelled {
            if let restart = await coordinator.takeRestart() {
                guard restart.source == index else {
                    throw BridgeError.sourceNotReady(
                        "backfill: a chunk of another table than \(table) asked to be read again; "
                            + "restart the bridge to copy both again from their recorded progress")
                }
                logger.debug("backfill chunk read again", metadata: ["table": "\(table)"])
                after = restart.after
            }
            guard try await BackfillState.currentRequest(slot: configuration.slot, table: table, on: target)
                == job.request
            else {
                await coordinator.waitUntilResolved()
                // A chunk of this copy discarded meanwhile asks to read again from its key: the table starts over
                // instead, and the next table's copy must not take that key for its own.
                _ = await coordinator.takeRestart()
                logger.info("backfill requested again; starting the table over", metadata: ["table": "\(table)"])
                return false
            }
            await coordinator.waitForRoom(limit: limits.chunksAhead)
            try Task.checkCancellation()
            seq += 1
            try await emit(.low, seq: seq, source: index, on: source)
            let chunk = try await query.read(after: after, limit: limit, on: source, logger: logger)
            let lastKey = chunk.rows.last.map { row in sourcePlan.rowKey.map { row[$0].displayText } } ?? after
            let done = chunk.rows.count < limit
            if !chunk.rows.isEmpty {
                limit = max(1, min(chunkRows, limits.chunkBytes / max(chunk.bytes / chunk.rows.count, 1)))
            }
            await coordinator.deposit(PendingChunk(
                    seq: seq, source: index, rows: chunk.rows, evaluation: chunk.evaluation,
                    payloads: Self.payloads(chunk, direct: direct),
                snapshot: chunk.snapshot, after: after,
                    progress: ChunkProgress(
                        table: table, request: job.request, lastKey: lastKey, rows: chunk.rows.count, done: done)))
            try await emit(.high, seq: seq, source: index, on: source)
            after = lastKey
            read += chunk.rows.count
            let progress = Self.progress(
                table, placed: (await coordinator.rowsPlaced[index] ?? 0) - placedBefore, estimate: estimate,
                since: started)
            if let report {
                report(progress)
            } else if ContinuousClock.now - lastLog >= .seconds(5) {
                lastLog = .now
                var metadata: Logger.Metadata = [
                    "table": "\(table)", "rows": "\(progress.rows)", "estimated_rows": "\(estimate)",
                    "rows_per_second": "\(Int(progress.rowsPerSecond))",
                ]
                if let eta = progress.etaSeconds { metadata["eta_seconds"] = "\(eta)" }
                logger.info("backfill progress", metadata: metadata)
            }
            if done {
                await coordinator.waitUntilResolved()
                try Task.checkCancellation()
                if await coordinator.hasRestart { continue }
                let placed = (await coordinator.rowsPlaced[index] ?? 0) - placedBefore
                var final = Self.progress(table, placed: placed, estimate: estimate, since: started)
                final.done = true
                report?(final)
                logger.info("backfill done", metadata: [
                    "table": "\(table)", "rows": "\(placed)",
                    "seconds": "\(Self.seconds(ContinuousClock.now - started))",
                ])
                return true
            }
            if let rate = limits.rowsPerSecond {
                let due = started + .milliseconds(read * 1000 / max(rate, 1))
                if due > .now { try await Task.sleep(until: due) }
            }
        }
        return false
    }

    /// The COPY data of each target that takes the chunk by COPY alone (a direct copy, or columns the source computed).
    private static func payloads(_ chunk: ChunkQuery.Chunk, direct: [DirectCopy?]) -> [Int: CopyPayload] {
        var payloads: [Int: CopyPayload] = [:]
        for index in direct.indices {
            let copy: (any CopyOnlyTarget)? = direct[index] ?? chunk.evaluation?.targets[index]
            if let copy { payloads[index] = CopyPayload(statement: copy.statement, data: copy.data(chunk.rows)) }
        }
        return payloads
    }

    private func emit(_ edge: BackfillMark.Edge, seq: Int, source index: Int, on source: PGConnection) async throws {
        let mark = BackfillMark(edge: edge, seq: seq, source: index, run: run, slot: configuration.slot)
        guard edge == .high else {
            try await source.query(
                "SELECT pg_logical_emit_message(false, $1, $2)::text", [BackfillMark.prefix, mark.content])
            return
        }
        // A non-transactional message is not flushed by itself (PostgreSQL 15 has no flush argument), so the
        // walsender would see it only at the WAL writer's next round; a transactional one commits, flushing both.
        try await source.query(
            "SELECT pg_logical_emit_message(false, $1, $2)::text, pg_logical_emit_message(true, $1, '')::text",
            [BackfillMark.prefix, mark.content])
    }

    /// The progress of a copy that started at `start`.
    private static func progress(
        _ table: TableName, placed: Int, estimate: Int, since start: ContinuousClock.Instant
    ) -> BackfillReport {
        let rate = Double(placed) / max(seconds(ContinuousClock.now - start), 0.001)
        let eta = estimate > placed && rate > 0 ? Int(Double(estimate - placed) / rate) : nil
        return BackfillReport(
            table: table, rows: placed, estimate: estimate, rowsPerSecond: rate, etaSeconds: eta, done: false)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
