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
        lagBytes = registry.makeGauge(
            descriptor: Self.name("lag", "bytes", "Source WAL not yet applied to the target, in bytes"))
        lagSeconds = registry.makeGauge(
            descriptor: Self.name(
                "lag", "seconds", "Time since the bridge last had applied all of the source's WAL; 0 when caught up"))
        retainedWAL = registry.makeGauge(
            descriptor: Self.name("retained_wal", "bytes", "WAL the replication slot keeps on the source"))
        deadLetters = registry.makeCounter(
            descriptor: Self.name(
                "dead_letters", "total", "Changes the target rejected, kept in walbridge.dead_letters"))
        transactions = registry.makeCounter(
            descriptor: Self.name("target_transactions", "total", "Target transactions committed"))
        batchRows = registry.makeValueHistogram(
            descriptor: Self.name("batch", "rows", "Source changes per target transaction"),
            buckets: [1, 10, 100, 1_000, 10_000, 100_000])
        applyLatency = registry.makeDurationHistogram(
            descriptor: Self.name("apply", "seconds", "Time from a target transaction's first statement to its commit"),
            buckets: [
                .milliseconds(1), .milliseconds(5), .milliseconds(20), .milliseconds(100), .milliseconds(500),
                .seconds(2), .seconds(10)
            ])
        var states: [BridgeState: Gauge] = [:]
        for state in [BridgeState.starting, .backfilling, .streaming, .paused, .stopped, .failed] {
            states[state] = registry.makeGauge(
                descriptor: Self.name("state", "", "1 for the bridge's current state"),
                labels: [("state", state.rawValue)])
        }
        self.states = states
        set(.starting)
    }

    /// `walbridge_<name>_<unit>`, with its help text.
    private static func name(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "walbridge", metricName: name, unitName: unit, helpText: help)
    }

    /// The bridge's current state.
    func set(_ state: BridgeState) {
        for (each, gauge) in states { gauge.set(each == state ? 1.0 : 0.0) }
        health.withLock { $0.state = state }
    }

    /// Changes of `operation` applied to the targets of `table`.
    func applied(_ count: Int, table: String, operation: String) {
        registry.makeCounter(
            descriptor: Self.name("changes_applied", "total", "Source changes applied, by source table and operation"),
            labels: [("table", table), ("operation", operation)]
        ).increment(by: Int64(count))
    }

    /// Rows a backfill chunk wrote for `table`.
    func backfilled(_ count: Int, table: String) {
        registry.makeCounter(
            descriptor: Self.name("backfill_rows", "total", "Rows copied by the backfill"), labels: [("table", table)]
        )
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
