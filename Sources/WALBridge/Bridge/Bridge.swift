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
    /// Receives backfill progress after every chunk (a terminal's progress bar); without it, progress is logged every 5
    /// seconds.
    public var onBackfillProgress: (@Sendable (BackfillReport) -> Void)?
    /// Called once the stream is running (with the start position), and again after each reconnect.
    public var onStreaming: @Sendable (WALPosition) async -> Void = { _ in }
    /// Stop for good right after the last transaction that commits at or before this position (`run --until-lsn`).
    public var untilLSN: WALPosition?
    /// How often the bridge reads `walbridge.control` for a pause.
    public var controlInterval: Duration = .milliseconds(100)
    /// Where to serve `/metrics` and `/healthz` (`host:port`), over the configuration's `metrics:`.
    public var metricsAddress: String?
    /// `/healthz` answers 503 once the lag reaches this.
    public var maxHealthyLag: Duration = .seconds(60)
    /// Stay paused until resumed when `walbridge.control` has no row for the slot yet: the reverse direction, which
    /// `walbridge cutover --reverse` starts.
    public var startsPaused = false
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
        ProcessMemory.returnLargeBuffers()
        let control = ControlSession(target: configuration.target)
        let slot = configuration.slot
        let startsPaused = startsPaused
        let watch = ControlWatch(try await control.run { target in
            try await StateSchema.ensure(on: target)
            if startsPaused { try await Control.pauseIfNew(slot: slot, on: target) }
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
        let partner = configuration.partnerSlot
        let report: @Sendable (BridgeState, String?, LSN?) async -> Void = { [metrics] state, error, stoppedAt in
            metrics?.set(state)
            do {
                try await control.run {
                    try await Control.report(
                        state, error: error, stoppedAt: stoppedAt, partner: partner, slot: slot, pid: pid, on: $0)
                }
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
                    if await checkRetainedWAL(
                        metrics: metrics, warn: ContinuousClock.now - lastWarning >= .seconds(60)) {
                        lastWarning = .now
                    }
                }
                // A cut-over's nudge in the stream cuts the wait short.
                let next = ContinuousClock.now + interval
                while ContinuousClock.now < next && !watch.takeWake() && !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(10))
                }
                if let request = try? await control.run({ try await Control.request(slot: slot, on: $0) }) {
                    watch.set(request)
                }
            }
        }
        await report(.starting, nil, nil)
        do {
            var supervisor = BridgeSupervisor(
                bridge: self, watch: watch, control: control, metrics: metrics, report: report)
            try await supervisor.run()
            await report(.stopped, nil, nil)
        } catch {
            // Cancelled while a session started (the process ends because the other direction failed): not a failure.
            await report(
                error is CancellationError ? .stopped : .failed, error is CancellationError ? nil : "\(error)", nil)
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
        guard metrics != nil || warn,
            let slot = try? await SourceCheck.connect(configuration.source).closing({
                try await SlotStatus.read(configuration.slot, on: $0)
            }),
            let retained = slot.retainedBytes
        else { return false }
        metrics?.retained(retained)
        guard warn, let limit = configuration.retainedWALWarningBytes, retained > limit else { return false }
        logger.warning("""
            the slot keeps much WAL on the source; see walbridge status, and resume or drop the \
            slot before the disk fills
            """,
            metadata: [
            "slot": "\(configuration.slot)", "retained_bytes": "\(retained)", "retained_wal_warning": "\(limit)",
            "wal_status": "\(slot.walStatus ?? "?")",
        ])
        return true
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
            // Lost connections, server shutdown, resources, locks, deadlocks, serialization, cancelled statements, a
            // busy slot.
            return ["08", "57", "53", "40"].contains(String(state.prefix(2))) || state == "55006" || state == "55P03"
        case .protocolViolation: return false
        }
    }
}
