import Logging
import PGClient
import PGOutput

/// Runs sessions one after another until the bridge stops: waits out pauses, retries lost connections with backoff
/// (each session resumes from the checkpoint), and sets the next session's mode from how the last one ended.
struct BridgeSupervisor {
    let bridge: Bridge
    let watch: ControlWatch
    let control: ControlSession
    let metrics: BridgeMetrics?
    /// Records a state, its error, and where the stream stopped when paused at an LSN.
    let report: @Sendable (BridgeState, String?, LSN?) async -> Void
    /// How the next session streams and applies.
    private(set) var mode = SessionMode()

    /// A supervisor for `bridge`, reading pauses from `watch` and reporting its state through `report`.
    init(
        bridge: Bridge, watch: ControlWatch, control: ControlSession, metrics: BridgeMetrics?,
        report: @escaping @Sendable (BridgeState, String?, LSN?) async -> Void
    ) {
        self.bridge = bridge
        self.watch = watch
        self.control = control
        self.metrics = metrics
        self.report = report
    }

    private var logger: Logger { bridge.logger }

    /// Runs until cancelled or past `untilLSN` (returns), or a problem a retry can't mend (throws).
    mutating func run() async throws {
        let slot = bridge.configuration.slot
        var streamedOnce = false
        var delay: Duration = .milliseconds(500)
        // The pause position the stream last stopped at; the bridge stays paused there until resumed.
        var stoppedAt: LSN?
        // A bridge restarted right after the last one died finds the slot still held by its walsender for a moment.
        let busySlotDeadline = ContinuousClock.now + .seconds(30)
        // The refusal that started the ordered replay: a replay that cannot start names it.
        var replayCause: PGError?
        while !Task.isCancelled {
            let request = watch.current
            if request.paused && (request.atLSN == nil || request.atLSN == stoppedAt) {
                let at = try? await control.run { try await ProgressState.checkpoint(slot: slot, on: $0) }
                logger.info(
                    "paused; the slot keeps the source's WAL from here until walbridge resume",
                    metadata: ["applied": "\(at.flatMap { $0 } ?? .zero)"])
                await report(.paused, nil, request.atLSN == nil ? nil : stoppedAt)
                while !Task.isCancelled && watch.current == request { try? await Task.sleep(for: .milliseconds(50)) }
                if Task.isCancelled { return }
                if !watch.current.paused { logger.info("resumed") }
                continue
            }
            let stop = [request.paused ? request.atLSN : nil, bridge.untilLSN?.lsn].compactMap { $0 }.min()
            let session = BridgeSession(bridge: bridge, mode: mode, stop: stop, watch: watch, metrics: metrics)
            let outcome: SessionOutcome
            do {
                outcome = try await session.run { start in
                    streamedOnce = true
                    delay = .milliseconds(500)
                    await report(.streaming, nil, nil)
                    await bridge.onStreaming(WALPosition(start))
                }
            } catch where (streamedOnce && Bridge.isTransient(error))
                || (Bridge.isSlotBusy(error) && ContinuousClock.now < busySlotDeadline) {
                logger.warning("connection lost; resuming from the checkpoint", metadata: [
                    "error": "\(error)", "retry_in": "\(delay)",
                ])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(30))
                continue
            } catch let problems as PlanProblems {
                // A replay not yet past the refusal: say what was refused first, as the plan's problem (a mapped table
                // dropped since, say) only keeps it from being found.
                guard let cause = replayCause, let through = mode.orderedThrough else { throw problems }
                let applied = try? await control.run { try await ProgressState.checkpoint(slot: slot, on: $0) }
                guard (applied.flatMap { $0 } ?? .zero) <= through else { throw problems }
                throw BridgeError.replayBlocked(
                    cause: cause.description, through: WALPosition(through), reason: problems.description)
            }
            switch outcome {
            case .cancelled:
                return
            case .paused:
                stoppedAt = nil
            case .reachedStop(let lsn):
                if lsn == bridge.untilLSN?.lsn {
                    logger.info("reached --until-lsn; stopping", metadata: ["until": "\(lsn)"])
                    return
                }
                stoppedAt = lsn
            case .stopRequested:
                // The pause is in walbridge.control already; read it now rather than at the next poll.
                if let request = try? await control.run({ try await Control.request(slot: slot, on: $0) }) {
                    watch.set(request)
                }
            case .disableStreaming(let fallback):
                logger.info(
                    "replaying from the checkpoint without streaming large transactions",
                    metadata: ["reason": "\(fallback)"])
                mode.streaming = false
            case .replayInOrder(let through, let cause):
                logger.warning(
                    "the target refused a batch; replaying it one change at a time to find the change at fault",
                    metadata: [
                    "error": "\(cause)", "through": "\(through)",
                ])
                mode.orderedThrough = through
                replayCause = cause
            }
        }
    }
}
