import Foundation
import Logging
import PGClient
import PGOutput
import Synchronization

/// The running bridge: streams the source slot, maps each committed change and applies it to the
/// target, resuming from the checkpoint in the target after any restart or lost connection.
public struct Bridge: Sendable {
    public let configuration: Configuration
    public let logger: Logger
    public var limits = ApplyLimits()
    /// Backfill chunk size and rate (the rate defaults to the configuration's `backfill_rate`).
    public var backfillLimits = BackfillLimits()
    /// How often the flush position goes to the source at the least.
    public var statusInterval: Duration = .seconds(1)
    /// Receives backfill progress after every chunk (a terminal's progress bar); without it, progress is logged every 5 seconds.
    public var onBackfillProgress: (@Sendable (BackfillReport) -> Void)?
    /// Called once the stream is running (with the start position), and again after each reconnect.
    public var onStreaming: @Sendable (WALPosition) async -> Void = { _ in }
    /// Stop for good right after the last transaction that commits at or before this position (`run --until-lsn`).
    public var untilLSN: WALPosition?
    /// How often the bridge reads `walbridge.control` for a pause.
    public var controlInterval: Duration = .milliseconds(250)
    /// Where to serve `/metrics` and `/healthz` (`host:port`), over the configuration's `metrics:`.
    public var metricsAddress: String?
    /// `/healthz` answers 503 once the lag reaches this.
    public var maxHealthyLag: Duration = .seconds(60)
    /// Called with the metrics server once it listens (its port, for tests that ask for port 0).
    public var onMetricsServer: @Sendable (MetricsServer) -> Void = { _ in }

    /// A bridge for `configuration`, logging through `logger`.
    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs until cancelled or past `untilLSN` (returns normally), or a problem that a retry can't mend (throws).
    /// Lost connections are retried with backoff, resuming from the checkpoint; a pause asked for in
    /// `walbridge.control` stops the stream at a transaction boundary until the bridge is resumed.
    public func run() async throws {
        let control = ControlSession(target: configuration.target)
        let slot = configuration.slot
        let watch = ControlWatch(try await control.run { target in
            try await StateSchema.ensure(on: target)
            return try await Control.request(slot: slot, on: target)
        })
        let pid = ProcessInfo.processInfo.processIdentifier
        var metrics: BridgeMetrics?
        var server: MetricsServer?
        if let address = metricsAddress ?? configuration.metrics {
            let created = BridgeMetrics()
            server = try MetricsServer(address: address, metrics: created, maxLag: maxHealthyLag, logger: logger)
            metrics = created
            onMetricsServer(server!)
        }
        defer { server?.close() }
        let report: @Sendable (BridgeState, String?) async -> Void = { [metrics] state, error in
            metrics?.set(state)
            do {
                try await control.run { try await Control.report(state, error: error, slot: slot, pid: pid, on: $0) }
            } catch {
                logger.debug("could not record the bridge's state", metadata: ["error": "\(error)"])
            }
        }
        let interval = controlInterval
        let poller = Task { [metrics] in
            var lastWALCheck = ContinuousClock.now - .seconds(60)
            var lastWarning = ContinuousClock.now - .seconds(60)
            while !Task.isCancelled {
                if ContinuousClock.now - lastWALCheck >= .seconds(10) {
                    lastWALCheck = .now
                    if await checkRetainedWAL(metrics: metrics, warn: ContinuousClock.now - lastWarning >= .seconds(60)) { lastWarning = .now }
                }
                try? await Task.sleep(for: interval)
                if let request = try? await control.run({ try await Control.request(slot: slot, on: $0) }) { watch.set(request) }
            }
        }
        await report(.starting, nil)
        do {
            try await runUntilStopped(watch: watch, report: report, control: control, metrics: metrics)
            await report(.stopped, nil)
        } catch {
            await report(.failed, "\(error)")
            poller.cancel()
            _ = await poller.result
            await control.close()
            throw error
        }
        poller.cancel()
        _ = await poller.result
        await control.close()
    }

    /// Reads the WAL the slot keeps on the source into the metrics, and logs a warning (when `warn`) while it is over
    /// `retained_wal_warning`; true when it warned.
    private func checkRetainedWAL(metrics: BridgeMetrics?, warn: Bool) async -> Bool {
        guard metrics != nil || warn, let slot = try? await SourceCheck.connect(configuration.source).closing({ try await SlotStatus.read(configuration.slot, on: $0) }),
            let retained = slot.retainedBytes
        else { return false }
        metrics?.retained(retained)
        guard warn, let limit = configuration.retainedWALWarningBytes, retained > limit else { return false }
        logger.warning("the slot keeps much WAL on the source; see walbridge status, and resume or drop the slot before the disk fills", metadata: [
            "slot": "\(configuration.slot)", "retained_bytes": "\(retained)", "retained_wal_warning": "\(limit)",
            "wal_status": "\(slot.walStatus ?? "?")",
        ])
        return true
    }

    private func runUntilStopped(
        watch: ControlWatch, report: @escaping @Sendable (BridgeState, String?) async -> Void, control: ControlSession, metrics: BridgeMetrics?
    ) async throws {
        let slot = configuration.slot
        var orderedThrough: LSN?
        var streaming = true
        var streamedOnce = false
        var delay: Duration = .milliseconds(500)
        // The pause position the stream last stopped at; the bridge stays paused there until resumed.
        var stoppedAt: LSN?
        // A bridge restarted right after the last one died finds the slot still held by its walsender for a moment.
        let busySlotDeadline = ContinuousClock.now + .seconds(30)
        while !Task.isCancelled {
            let request = watch.current
            if request.paused && (request.atLSN == nil || request.atLSN == stoppedAt) {
                let at = try? await control.run { try await ProgressState.checkpoint(slot: slot, on: $0) }
                logger.info("paused; the slot keeps the source's WAL from here until walbridge resume", metadata: ["applied": "\(at.flatMap { $0 } ?? .zero)"])
                await report(.paused, nil)
                while !Task.isCancelled && watch.current == request { try? await Task.sleep(for: .milliseconds(50)) }
                if Task.isCancelled { return }
                if !watch.current.paused { logger.info("resumed") }
                continue
            }
            let stop = [request.paused ? request.atLSN : nil, untilLSN?.lsn].compactMap { $0 }.min()
            do {
                let end = try await runOnce(orderedThrough: orderedThrough, streaming: streaming, stop: stop, watch: watch, metrics: metrics) { start in
                    streamedOnce = true
                    delay = .milliseconds(500)
                    await report(.streaming, nil)
                    await onStreaming(WALPosition(start))
                }
                switch end {
                case .cancelled:
                    return
                case .paused:
                    stoppedAt = nil
                case .reachedStop(let lsn):
                    if lsn == untilLSN?.lsn {
                        logger.info("reached --until-lsn; stopping", metadata: ["until": "\(lsn)"])
                        return
                    }
                    stoppedAt = lsn
                }
            } catch is StopRequested {
                // The pause is in walbridge.control already; read it now rather than at the next poll.
                if let request = try? await control.run({ try await Control.request(slot: slot, on: $0) }) { watch.set(request) }
            } catch let fallback as StreamingFallback {
                logger.info("replaying from the checkpoint without streaming large transactions", metadata: ["reason": "\(fallback)"])
                streaming = false
            } catch let replay as OrderedReplay {
                logger.warning("the target refused a batch; replaying it one change at a time to find the change at fault", metadata: [
                    "error": "\(replay.cause)", "through": "\(replay.through)",
                ])
                orderedThrough = replay.through
            } catch where (streamedOnce && Self.isTransient(error)) || (Self.isSlotBusy(error) && ContinuousClock.now < busySlotDeadline) {
                logger.warning("connection lost; resuming from the checkpoint", metadata: [
                    "error": "\(error)", "retry_in": "\(delay)",
                ])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(30))
            }
        }
    }

    /// The slot is held by another session (55006): the previous bridge's walsender, or another bridge.
    static func isSlotBusy(_ error: Error) -> Bool {
        (error as? PGError)?.sqlState == "55006"
    }

    /// Errors that a reconnect may mend: lost connections and a server starting, stopping or full.
    static func isTransient(_ error: Error) -> Bool {
        guard let error = error as? PGError else { return false }
        switch error.kind {
        case .connect, .connectionLost, .timeout, .closed: return true
        case .server:
            let state = error.sqlState ?? ""
            // Lost connections, server shutdown, resources, locks, deadlocks, serialization, cancelled statements, a busy slot.
            return ["08", "57", "53", "40"].contains(String(state.prefix(2))) || state == "55006" || state == "55P03"
        case .protocolViolation: return false
        }
    }

    /// Why one session of the stream ended.
    private enum RunEnd {
        case cancelled
        /// At a transaction boundary, for a pause asked for now.
        case paused
        /// Past the stop position: every transaction committing at or before it was applied.
        case reachedStop(LSN)
    }

    /// One session: set up, stream and apply until cancelled, paused, past `stop`, or failed.
    private func runOnce(
        orderedThrough: LSN?, streaming: Bool, stop: LSN?, watch: ControlWatch, metrics: BridgeMetrics?, started: (LSN) async -> Void
    ) async throws -> RunEnd {
        // Connections that an error leaves behind close when released.
        let target = try await SourceCheck.connect(configuration.target, role: "target")
        try await StateSchema.ensure(on: target)
        let checkpoint = try await ProgressState.checkpoint(slot: configuration.slot, on: target)

        let (plan, sameDatabase) = try await prepareSource(checkpoint: checkpoint, target: target)
        let problems = try await TargetCheck.problems(plan, on: target)
        if !problems.isEmpty { throw PlanProblems(problems: problems) }

        let replication = try await SourceCheck.connect(configuration.source, replication: true)
        try await replication.simpleQuery(StableOutput.settings)
        let start = checkpoint ?? .zero
        // In place, a row inserted by a transaction still in progress is not there to update: wait for commits.
        let streamInProgress = streaming && orderedThrough == nil && stop == nil && !plan.hasInPlaceTargets
        let stream = try await ReplicationStream.start(
            on: replication, slot: configuration.slot, publications: [configuration.publication], from: start,
            streaming: streamInProgress, statusInterval: statusInterval)

        let applier = Applier(
            plan: plan, target: target, sourceRows: SourceRows(source: configuration.source), slot: configuration.slot, markWrites: sameDatabase,
            onError: configuration.onError, limits: limits, logger: logger, durable: start, orderedThrough: orderedThrough)
        try await applier.prepare()
        let coordinator = BackfillCoordinator()
        applier.onBackfillChunk = { await coordinator.applied() }
        applier.metrics = metrics
        if !sameDatabase && backfillLimits.writerSessions > 0 {
            // The bridge's own writes need marking only when the target is the source database; there they stay on one session.
            let target = configuration.target
            applier.chunkWriters = ChunkWriters(
                plan: plan, sessions: backfillLimits.writerSessions, sourceRows: SourceRows(source: configuration.source), logger: logger,
                connect: { try await SourceCheck.connect(target, role: "target") })
        }
        logger.info("streaming", metadata: [
            "slot": "\(configuration.slot)", "from": "\(start)", "tables": "\(plan.sources.count)",
            "mode": "\(orderedThrough == nil ? "batched" : "ordered replay")", "streaming": "\(streamInProgress)",
        ])
        await started(start)

        let durable = DurablePosition(start)
        // The source's WAL end as the stream last showed it, for the lag.
        let sourceEnd = DurablePosition(start)
        let queue = AsyncBoundedQueue<[ApplyEvent]>(capacity: 32)
        let run = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        var backfillLimits = backfillLimits
        backfillLimits.rowsPerSecond = backfillLimits.rowsPerSecond ?? configuration.backfillRate
        let worker = BackfillWorker(plan: plan, configuration: configuration, run: run, coordinator: coordinator, limits: backfillLimits, logger: logger, report: onBackfillProgress)
        // The worker's own failure (not its cancellation) stops the stream, and runOnce throws it.
        let backfilling = Task { () -> Error? in
            do {
                try await worker.run()
                return nil
            } catch where !Task.isCancelled {
                await queue.finish(throwing: error)
                return error
            } catch {
                return nil
            }
        }
        // The applier is not cancelled with the bridge: on shutdown or pause it is halted, and stops at the next
        // transaction boundary, committing what it applied; a batch that ends mid-transaction is rolled back.
        let halt = applier.halt
        let applying = Task {
            do {
                try await applier.run(queue) { lsn in
                    durable.store(lsn)
                    metrics?.observe(serverEnd: sourceEnd.load(), applied: lsn)
                }
            } catch {
                await queue.finish(throwing: error)
                throw error
            }
        }
        var reader = TransactionReader(plan: plan, slot: configuration.slot, checkpoint: start, backfillRun: run)
        reader.stopAfter = stop
        var end = RunEnd.cancelled
        do {
            while !Task.isCancelled, await !queue.isFinished {
                let request = watch.current
                if request.paused && request.atLSN == nil && !reader.inTransaction {
                    end = .paused
                    break
                }
                if request.paused, let at = request.atLSN, at != reader.stopAfter { reader.stopAfter = at }
                let items: [StreamItem]
                do {
                    items = try await stream.read()
                } catch is CancellationError {
                    break
                }
                var events: [ApplyEvent] = []
                for item in items {
                    switch item {
                    case .keepalive(let keepalive): if keepalive.walEnd > sourceEnd.load() { sourceEnd.store(keepalive.walEnd) }
                    case .message(let lsn, _): if lsn > sourceEnd.load() { sourceEnd.store(lsn) }
                    }
                }
                do {
                    for item in items { events += try reader.consume(item) }
                } catch {
                    // What was decoded before the failure still goes to the applier, which commits the complete transactions.
                    if !events.isEmpty { await queue.send(events) }
                    throw error
                }
                if events.contains(where: \.isBackfillWindow) { events = await place(events, reader: reader, coordinator: coordinator, plan: plan) }
                if !events.isEmpty { await queue.send(events) }
                stream.acknowledge(durable.load())
                metrics?.observe(serverEnd: sourceEnd.load(), applied: durable.load())
                if reader.stopped, let stop = reader.stopAfter {
                    end = .reachedStop(stop)
                    break
                }
            }
            if case .reachedStop = end {} else { halt.set() }
            await queue.finish()
        } catch {
            await queue.finish(throwing: error)
        }
        backfilling.cancel()
        await coordinator.close()
        let backfillFailure = await backfilling.value
        let outcome = await applying.result
        stream.acknowledge(durable.load())
        try? await stream.sendStatus()
        await replication.close()
        await target.close()
        try outcome.get()
        // The applier stopped cleanly at the halt the worker's failure led to; the failure must not pass for a stop.
        if let backfillFailure { throw backfillFailure }
        logger.info("stopped", metadata: ["applied": "\(durable.load())"])
        return end
    }

    /// Replaces each closed backfill window with its chunk's rows, or drops it (stale, or to be read again).
    private func place(_ events: [ApplyEvent], reader: TransactionReader, coordinator: BackfillCoordinator, plan: MappingPlan) async -> [ApplyEvent] {
        var placed: [ApplyEvent] = []
        for event in events {
            guard case .backfillWindow(let window) = event else {
                placed.append(event)
                continue
            }
            guard let chunk = await coordinator.take(window.seq) else { continue }
            if let rows = chunk.placement(in: window, commits: reader.recentCommits, rowKey: plan.sources[window.source].rowKey) {
                await coordinator.placed(chunk)
                placed.append(.backfill(rows))
            } else {
                logger.debug("backfill chunk must be read again", metadata: ["table": "\(plan.sources[window.source].info.table)", "at": "\(window.lsn)"])
                await coordinator.discard(chunk)
            }
        }
        return placed
    }

    /// Reads the source catalog, builds the plan, and makes sure the publication and slot exist.
    private func prepareSource(checkpoint: LSN?, target: PGConnection) async throws -> (MappingPlan, Bool) {
        try await SourceCheck.checkForLogicalReplication(configuration.source, publications: [])
        let source = try await SourceCheck.connect(configuration.source)
        return try await source.closing { source in
            let tables = try await SourceSetup.describeTables(configuration, on: source)
            let sameDatabase = try await SourceSetup.databaseIdentity(source) == SourceSetup.databaseIdentity(target)
            let plan = try MappingPlan.build(configuration, sourceTables: tables, sameDatabase: sameDatabase)
            try await SourceSetup.ensurePublication(configuration, tables: tables, on: source, logger: logger)
            try await SourceSetup.ensureSlot(configuration.slot, checkpoint: checkpoint, on: source, logger: logger)
            return (plan, sameDatabase)
        }
    }
}
