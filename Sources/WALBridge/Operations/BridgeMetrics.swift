import PGOutput
import Prometheus
import Synchronization

/// The bridge's Prometheus metrics, and the figures `/healthz` decides on.
public final class BridgeMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let lagBytes: Gauge
    private let lagSeconds: Gauge
    private let retainedWAL: Gauge
    private let deadLetters: Counter
    private let transactions: Counter
    private let batchRows: ValueHistogram
    private let applyLatency: DurationHistogram
    private let states: [BridgeState: Gauge]
    private let health = Mutex(Health())

    private struct Health {
        var state = BridgeState.starting
        var lagSeconds = 0.0
        /// When the applied position last reached the source's WAL end.
        var caughtUp = ContinuousClock.now
    }

    public init() {
        lagBytes = registry.makeGauge(name: "walbridge_lag_bytes", help: "Source WAL not yet applied to the target, in bytes")
        lagSeconds = registry.makeGauge(name: "walbridge_lag_seconds", help: "Time since the bridge last had applied all of the source's WAL; 0 when caught up")
        retainedWAL = registry.makeGauge(name: "walbridge_retained_wal_bytes", help: "WAL the replication slot keeps on the source")
        deadLetters = registry.makeCounter(name: "walbridge_dead_letters_total", help: "Changes the target rejected, kept in walbridge.dead_letters")
        transactions = registry.makeCounter(name: "walbridge_target_transactions_total", help: "Target transactions committed")
        batchRows = registry.makeValueHistogram(
            name: "walbridge_batch_rows", buckets: [1, 10, 100, 1_000, 10_000, 100_000], help: "Source changes per target transaction")
        applyLatency = registry.makeDurationHistogram(
            name: "walbridge_apply_seconds",
            buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(20), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10)],
            help: "Time from a target transaction's first statement to its commit")
        var states: [BridgeState: Gauge] = [:]
        for state in [BridgeState.starting, .backfilling, .streaming, .paused, .stopped, .failed] {
            states[state] = registry.makeGauge(name: "walbridge_state", labels: [("state", state.rawValue)], help: "1 for the bridge's current state")
        }
        self.states = states
        set(.starting)
    }

    /// The bridge's current state.
    func set(_ state: BridgeState) {
        for (each, gauge) in states { gauge.set(each == state ? 1.0 : 0.0) }
        health.withLock { $0.state = state }
    }

    /// Changes of `operation` applied to the targets of `table`.
    func applied(_ count: Int, table: String, operation: String) {
        registry.makeCounter(name: "walbridge_changes_applied_total", labels: [("table", table), ("operation", operation)],
                             help: "Source changes applied, by source table and operation").increment(by: Int64(count))
    }

    /// Rows a backfill chunk wrote for `table`.
    func backfilled(_ count: Int, table: String) {
        registry.makeCounter(name: "walbridge_backfill_rows_total", labels: [("table", table)], help: "Rows copied by the backfill")
            .increment(by: Int64(count))
    }

    /// A target transaction committed with `rows` changes after `duration`.
    func committed(rows: Int, duration: Duration) {
        transactions.increment()
        batchRows.record(Double(rows))
        applyLatency.record(duration)
    }

    /// A change went to the dead-letter table.
    func deadLettered() {
        deadLetters.increment()
    }

    /// Updates the lag from the source's WAL end and the durably applied position.
    func observe(serverEnd: LSN, applied: LSN) {
        let bytes = serverEnd > applied ? serverEnd.rawValue - applied.rawValue : 0
        lagBytes.set(Int64(bytes))
        let seconds = health.withLock { health in
            let now = ContinuousClock.now
            if bytes == 0 { health.caughtUp = now }
            let behind = now - health.caughtUp
            health.lagSeconds = Double(behind.components.seconds) + Double(behind.components.attoseconds) / 1e18
            return health.lagSeconds
        }
        lagSeconds.set(seconds)
    }

    /// The WAL the slot keeps on the source.
    func retained(_ bytes: Int64) {
        retainedWAL.set(bytes)
    }

    /// Whether the bridge streams (or backfills) with a lag under `maxLag`.
    func healthy(maxLag: Duration) -> Bool {
        health.withLock { health in
            [.streaming, .backfilling].contains(health.state) && health.lagSeconds < Double(maxLag.components.seconds)
        }
    }

    /// The Prometheus text exposition of every metric.
    func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
