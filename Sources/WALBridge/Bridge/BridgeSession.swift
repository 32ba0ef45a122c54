import Logging
import PGClient
import PGOutput

/// One session of the bridge: connects, checks the plan, starts the stream at the checkpoint, and runs the pump, the
/// applier and the backfill worker as child tasks of one group until one of them ends the session.
struct BridgeSession {
    let bridge: Bridge
    let mode: SessionMode
    /// Apply only transactions committing at or before this (a pause at an LSN, `run --until-lsn`).
    let stop: LSN?
    let watch: ControlWatch
    let metrics: BridgeMetrics?

    private var configuration: Configuration { bridge.configuration }
    private var logger: Logger { bridge.logger }

    /// What one child task ended with.
    private enum ChildEnd: Sendable {
        /// The backfill worker's own failure (not its cancellation), if any.
        case backfill(Error?)
        case applier(Result<ApplyOutcome, Error>)
    }

    /// Runs the session to its end; `started` is called once the stream runs, with its start position.
    func run(started: (LSN) async -> Void) async throws -> SessionOutcome {
        // Connections that an error leaves behind close when released.
        let target = try await SourceCheck.connect(configuration.target, role: "target")
        try await target.simpleQuery(WriteFence.bypass)
        try await StateSchema.ensure(on: target)
        let checkpoint = try await ProgressState.checkpoint(slot: configuration.slot, on: target)

        let (plan, sameDatabase) = try await prepareSource(checkpoint: checkpoint, target: target)
        let problems = try await TargetCheck.problems(plan, on: target)
        if !problems.isEmpty { throw PlanProblems(problems: problems) }

        let replication = try await SourceCheck.connect(configuration.source, replication: true)
        try await replication.simpleQuery(StableOutput.settings)
        let start = checkpoint ?? .zero
        // In place, a row inserted by a transaction still in progress is not there to update: wait for commits.
        let streamInProgress = mode.streaming && mode.orderedThrough == nil && stop == nil && !plan.hasInPlaceTargets
        let stream = try await ReplicationStream.start(
            on: replication, slot: configuration.slot, publications: [configuration.publication], from: start,
            streaming: streamInProgress, statusInterval: bridge.statusInterval)

        let coordinator = BackfillCoordinator()
        let marker = TransactionReader.marker(for: configuration, sameDatabase: sameDatabase)
        var chunkWriters: ChunkWriters?
        if !sameDatabase && bridge.backfillLimits.writerSessions > 0 {
            // The bridge's own writes need marking only when the target is the source database; there they stay on one
            // session.
            let target = configuration.target
            chunkWriters = ChunkWriters(
                plan: plan, sessions: bridge.backfillLimits.writerSessions,
                sourceRows: SourceRows(source: configuration.source),
                marker: marker, logger: logger,
                connect: {
                    let session = try await SourceCheck.connect(target, role: "target")
                    try await session.simpleQuery(WriteFence.bypass)
                    return session
                })
        }
        let applier = Applier(
            plan: plan, target: target, sourceRows: SourceRows(source: configuration.source), slot: configuration.slot,
            markWrites: sameDatabase, marksWrites: marker != nil, onError: configuration.onError,
            backfill: configuration.backfill, limits: bridge.limits, logger: logger, durable: start,
            orderedThrough: mode.orderedThrough, chunkWriters: chunkWriters, metrics: metrics,
            openAside: { [target = configuration.target] in try await SourceCheck.connect(target, role: "target") },
            onBackfillChunk: { await coordinator.applied() })
        try await applier.prepare()
        logger.info("streaming", metadata: [
            "slot": "\(configuration.slot)", "from": "\(start)", "tables": "\(plan.sources.count)",
            "mode": "\(mode.orderedThrough == nil ? "batched" : "ordered replay")", "streaming": "\(streamInProgress)",
        ])
        await started(start)

        let durable = DurablePosition(start)
        let queue = AsyncBoundedQueue<[ApplyEvent]>(capacity: 32)
        let run = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        var backfillLimits = bridge.backfillLimits
        backfillLimits.rowsPerSecond = backfillLimits.rowsPerSecond ?? configuration.backfillRate
        let worker = BackfillWorker(
            plan: plan, configuration: configuration, run: run, coordinator: coordinator, limits: backfillLimits,
            computesOnSource: chunkWriters != nil, logger: logger,
            report: bridge.onBackfillProgress)
        var reader = TransactionReader(
            plan: plan, slot: configuration.slot, partnerSlot: configuration.partnerSlot, checkpoint: start,
            backfillRun: run)
        reader.stopAfter = stop
        // The source's WAL end as the stream last showed it, for the lag.
        let sourceEnd = DurablePosition(start)
        var pump = StreamPump(
            stream: stream, reader: reader, queue: queue, coordinator: coordinator, plan: plan, watch: watch,
            durable: durable,
            sourceEnd: sourceEnd, metrics: metrics, logger: logger)
        let metrics = metrics
        let halt = applier.halt
        // Not cancelled with the session: on shutdown or pause the applier is halted, and stops at the next transaction
        // boundary, committing what it applied; a batch that ends mid-transaction is rolled back.
        let applying = Task {
            let result: Result<ApplyOutcome, Error>
            do {
                result = .success(try await applier.run(queue) { lsn in
                    durable.store(lsn)
                    metrics?.observe(serverEnd: sourceEnd.load(), applied: lsn)
                })
            } catch {
                result = .failure(error)
            }
            await queue.finish()
            return result
        }

        let (pumped, backfillFailure, applied) = await withTaskGroup(of: ChildEnd.self) { group in
            group.addTask {
                do {
                    try await worker.run()
                    return .backfill(nil)
                } catch where !Task.isCancelled {
                    // The worker's failure stops the stream; the applier keeps what is complete.
                    await queue.finish(throwing: error)
                    return .backfill(error)
                } catch {
                    return .backfill(nil)
                }
            }
            // Awaiting the applier's own task does not cancel it with the group (see `applying`).
            group.addTask { .applier(await applying.value) }
            let pumped: Result<StreamPump.End, Error>
            do {
                pumped = .success(try await pump.run())
            } catch {
                pumped = .failure(error)
            }
            switch pumped {
            case .success(.reachedStop):
                // Everything queued commits at or before the stop: apply it all.
                await queue.finish()
            case .success(.disableStreaming(let fallback)):
                await queue.finish(throwing: fallback)
            case .failure(let error):
                await queue.finish(throwing: error)
            case .success(.paused), .success(.cancelled):
                halt.set()
                await queue.finish()
            }
            // Cancelled first, so that the worker woken by the close stops instead of going on.
            group.cancelAll()
            await coordinator.close()
            var backfillFailure: Error?
            var applied: Result<ApplyOutcome, Error> = .success(.finished)
            for await end in group {
                switch end {
                case .backfill(let error): backfillFailure = error
                case .applier(let result): applied = result
                }
            }
            return (pumped, backfillFailure, applied)
        }
        stream.acknowledge(durable.load())
        try? await stream.sendStatus()
        await replication.close()
        await target.close()

        switch try applied.get() {
        case .finished: break
        case .stopRequested: return .stopRequested
        case .replayInOrder(let through, let cause): return .replayInOrder(through: through, cause: cause)
        case .disableStreaming(let fallback): return .disableStreaming(fallback)
        }
        let end = try pumped.get()
        // The applier stopped cleanly at the halt the worker's failure led to; the failure must not pass for a stop.
        if let backfillFailure { throw backfillFailure }
        logger.info("stopped", metadata: ["applied": "\(durable.load())"])
        switch end {
        case .cancelled: return .cancelled
        case .paused: return .paused
        case .reachedStop(let lsn): return .reachedStop(lsn)
        case .disableStreaming(let fallback): return .disableStreaming(fallback)
        }
    }

    /// Reads the source catalog, builds the plan, and makes sure the publication and slot exist.
    private func prepareSource(checkpoint: LSN?, target: PGConnection) async throws -> (MappingPlan, Bool) {
        try await SourceCheck.checkForLogicalReplication(configuration.source, publications: [])
        let source = try await SourceCheck.connect(configuration.source)
        return try await source.closing { source in
            let tables = try await SourceSetup.describeTables(configuration, on: source)
            let sameDatabase = try await SourceSetup.databaseIdentity(source) == SourceSetup.databaseIdentity(target)
            let built = try MappingPlan.build(configuration, sourceTables: tables, sameDatabase: sameDatabase)
            let plan = try await TargetCatalog.read(into: built, backfill: configuration.backfill, on: target)
            try await SourceSetup.ensurePublication(configuration, tables: tables, on: source, logger: logger)
            try await SourceSetup.ensureSlot(configuration.slot, checkpoint: checkpoint, on: source, logger: logger)
            return (plan, sameDatabase)
        }
    }
}
