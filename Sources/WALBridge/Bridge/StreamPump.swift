import Logging
import PGOutput

/// The read loop of one session: reads the replication stream, turns it into apply events, places backfill chunks at
/// their high watermarks, queues the events for the applier and acknowledges what the target holds.
struct StreamPump {
    /// Why the loop ended, when no error ended it.
    enum End: Sendable {
        /// Cancelled, or the applier stopped taking events.
        case cancelled
        /// At a transaction boundary, for a pause asked for now.
        case paused
        /// Past the stop position.
        case reachedStop(LSN)
        /// The reader cannot follow streamed chunks; what was read before is queued.
        case disableStreaming(StreamingFallback)
    }

    let stream: ReplicationStream
    var reader: TransactionReader
    let queue: AsyncBoundedQueue<[ApplyEvent]>
    let coordinator: BackfillCoordinator
    let plan: MappingPlan
    let watch: ControlWatch
    /// The position the applier made durable: what the source may be told.
    let durable: DurablePosition
    /// The source's WAL end as the stream last showed it, for the lag.
    let sourceEnd: DurablePosition
    let metrics: BridgeMetrics?
    let logger: Logger

    /// Reads until cancelled, paused, past the stop, or the applier stops; throws what the stream or reader failed
    /// with, after queueing the events decoded before the failure.
    mutating func run() async throws -> End {
        while !Task.isCancelled, await !queue.isFinished {
            let request = watch.current
            if request.paused && request.atLSN == nil && !reader.inTransaction { return .paused }
            if request.paused, let at = request.atLSN, at != reader.stopAfter { reader.stopAfter = at }
            let items: [StreamItem]
            do {
                items = try await stream.read()
            } catch is CancellationError {
                return .cancelled
            }
            for item in items {
                switch item {
                case .keepalive(let keepalive):
                    if keepalive.walEnd > sourceEnd.load() { sourceEnd.store(keepalive.walEnd) }
                case .message(let lsn, _): if lsn > sourceEnd.load() { sourceEnd.store(lsn) }
                }
            }
            var events: [ApplyEvent] = []
            do {
                for item in items { events += try reader.consume(item) }
            } catch let fallback as StreamingFallback {
                // What was decoded before still goes to the applier, which commits the complete transactions.
                if !events.isEmpty { await queue.send(events) }
                return .disableStreaming(fallback)
            } catch {
                if !events.isEmpty { await queue.send(events) }
                throw error
            }
            if reader.nudged {
                reader.nudged = false
                watch.wakePoller()
            }
            if events.contains(where: \.isBackfillWindow) {
                events = await coordinator.place(events, commits: reader.recentCommits, plan: plan, logger: logger)
            }
            if !events.isEmpty { await queue.send(events) }
            stream.acknowledge(durable.load())
            metrics?.observe(serverEnd: sourceEnd.load(), applied: durable.load())
            if reader.stopped, let stop = reader.stopAfter { return .reachedStop(stop) }
        }
        return .cancelled
    }
}
