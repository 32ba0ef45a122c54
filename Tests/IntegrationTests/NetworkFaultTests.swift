import Foundation
import Logging
import PGClient
import Synchronization
import TestSupport
import Testing
import WALBridge

@Suite("walbridge run survives network faults")
struct NetworkFaultTests {
    /// The seed of the faults: WALBRIDGE_FAULT_SEED when set (to repeat a run), else random; failures print it.
    static let seed: UInt64 = ProcessInfo.processInfo.environment["WALBRIDGE_FAULT_SEED"].flatMap { UInt64($0) }
        ?? UInt64.random(in: 0...UInt64.max)

    @Test("""
        random resets, drops, stalls and refusals on the source and target connections during a backfill and \
        a write load: the bridge keeps running, the slot's flush never passes the target's checkpoint, and the \
        target converges to the oracle
        """)
    func randomFaults() async throws {
        try await SeedMigration.with { seed in
            try await seed.onSourceScript(BackfillTests.legacyRows(6_000) + CrashSafetyTests.churn)
            let proxied = try await ProxiedBridge.start(seed) {
                $0.backfillLimits.chunkRows = 500
                $0.backfillLimits.rowsPerSecond = 1_000
            }
            defer { proxied.stop() }
            let (sourceProxy, targetProxy, log, sessions, outcome) = (
                proxied.sourceProxy, proxied.targetProxy, proxied.log, proxied.sessions, proxied.outcome
            )
            let context = "fault seed \(Self.seed) (WALBRIDGE_FAULT_SEED)"

            // The application writes the source directly, not through a proxy.
            let stopWriting = Flag()
            let writer = Task {
                try await PGConnection.connect(seed.source).closing { app in
                    var round = 0
                    while await !stopWriting.isSet {
                        try await app.query("CALL churn(20, $1)", [String(Double(round % 1_000) / 1_000)])
                        round += 1
                        try await Task.sleep(for: .milliseconds(40))
                    }
                    return round
                }
            }
            let sampler = FlushSampler(seed: seed)
            let sampling = Task { await sampler.run() }

            let started = ContinuousClock.now
            // Most faults wait until the bridge streams again, so that they land in the middle of its work.
            let streams: @Sendable () async -> Bool = { (sessions.lastAt ?? started) > (log.lastWarningAt ?? started) }
            async let sourceFaults = Self.faults(sourceProxy, seed: Self.seed, ready: streams)
            async let targetFaults = Self.faults(targetProxy, seed: Self.seed &+ 1, ready: streams)
            let injected = (source: await sourceFaults, target: await targetFaults)
            let faultTime = ContinuousClock.now - started
            await stopWriting.set()
            let rounds = try await writer.value
            let summary =
                "\(context); \(injected.source.count) source faults \(injected.source), "
                + "\(injected.target.count) target faults \(injected.target); \(sessions.value) "
                + "streaming sessions, writer rounds \(rounds), source proxy \(sourceProxy.counts), "
                + "target proxy \(targetProxy.counts)"
            print("network faults: \(summary) in \(faultTime)")
            #expect(injected.source.count + injected.target.count >= 20, "\(summary)")

            // A bridge that has exited converges no more: do not wait for it.
            let backfilled = outcome.ended == nil ? await seed.backfillDone(timeout: .seconds(45)) : false
            let converged = outcome.ended == nil ? try await seed.converges(timeout: .seconds(30)) : false
            sampling.cancel()
            let samples = await sampling.value
            #expect(
                outcome.ended == nil,
                """
                the bridge still runs after every fault: it \(outcome.ended ?? ""); \(summary); last warnings: \
                \(log.warnings.suffix(8))
                """)
            let states = (try? await seed.backfillStates()) ?? [:]
            #expect(
                backfilled, "the backfill finishes: \(states); \(summary); last warnings: \(log.warnings.suffix(8))")
            let differences = converged ? [] : try await seed.differences()
            #expect(
                converged,
                "the target equals the oracle: \(differences); \(summary); last warnings: \(log.warnings.suffix(8))")
            #expect(samples.count > 50, "the flush position was sampled all along: \(samples.count) samples")
            #expect(
                samples.violations.isEmpty,
                "the slot confirmed more than the target holds: \(samples.violations.prefix(5)); \(summary)")
            #expect(sessions.value > 1, "the faults made the bridge reconnect: \(summary)")
            print("network faults: \(samples.count) flush samples, \(samples.violations.count) past the checkpoint")

            await proxied.cancel()
        }
    }

    @Test("""
        a server that resets the bridge's connections and then refuses reconnects for 2 s (source, then target) is \
        retried; after a target reset the bridge still obeys pause and resume
        """)
    func outages() async throws {
        try await SeedMigration.with { seed in
            try await seed.onSourceScript(BackfillTests.legacyRows(500))
            let proxied = try await ProxiedBridge.start(seed)
            defer { proxied.stop() }
            #expect(await seed.backfillDone(timeout: .seconds(30)))
            try await Self.pauseAndResume(seed, proxied, marker: 900_000, when: "before any fault")
            var next = 100_000
            for (side, proxy) in [("source", proxied.sourceProxy), ("target", proxied.targetProxy)] {
                let before = proxied.sessions.value
                let hit = proxy.refuse(for: .seconds(2))
                try await seed.onSource(
                    "INSERT INTO users (id, name) SELECT g, 'after \(side) "
                        + "outage' FROM generate_series($1::int, $1::int + 99) g", [String(next)])
                next += 100
                let back = await TestClusters.eventually(timeout: .seconds(20)) {
                    proxied.sessions.value > before || proxied.outcome.ended != nil
                }
                #expect(
                    proxied.outcome.ended == nil,
                    """
                    a \(side) outage (\(hit) connections reset, reconnects refused for 2 s) ended the bridge: it \
                    \(proxied.outcome.ended ?? ""); warnings: \(proxied.log.warnings.suffix(6))
                    """)
                try #require(
                    back && proxied.outcome.ended == nil,
                    "the bridge streams again after the \(side) outage; warnings: \(proxied.log.warnings.suffix(6))")
                let converged = try await seed.converges(timeout: .seconds(20))
                let differences = converged ? [] : try await seed.differences()
                #expect(converged, "after the \(side) outage; \(differences)")
            }

            // Control goes through the target proxy too: after its connections were reset the bridge must still read a
            // pause.
            try await Self.pauseAndResume(seed, proxied, marker: 900_001, when: "after the outages")
            #expect(proxied.outcome.ended == nil, "the bridge still runs: it \(proxied.outcome.ended ?? "")")
            await proxied.cancel()
        }
    }

    /// Pauses the bridge, expects it to report the pause and hold back a row written meanwhile (user `marker`), then
    /// resumes it and expects the row.
    static func pauseAndResume(
        _ seed: SeedMigration, _ proxied: ProxiedBridge, marker id: Int, when: String
    ) async throws {
        let slot = seed.configuration.slot
        try await SQLSession.with(try DatabaseAddress(seed.target.raw)) {
            try await StateStore($0, slot: slot).pause(at: nil)
        }
        let state = { try await seed.targetScalar("SELECT state FROM walbridge.control WHERE slot = $1", [slot]) }
        let reported = await TestClusters.eventually(timeout: .seconds(5)) { (try? await state()) == "paused" }
        try await seed.onSource(
            "INSERT INTO users (id, name) VALUES ($1::bigint, 'written while paused')", [String(id)])
        try await Task.sleep(for: .seconds(1))
        let marker = {
            try await seed.targetScalar("SELECT count(*) FROM users_v2 WHERE id = $1::bigint", [String(id)])
        }
        let heldBack = try await marker() == "0"
        let shown = (try? await state()) ?? nil
        #expect(reported && heldBack, """
            the bridge obeys a pause \(when): its state row says \(shown ?? "nothing"), \
            and a row written after the pause \
            \(heldBack ? "was held back" : "was applied"); warnings: \(proxied.log.warnings.suffix(4))
            """)
        try await SQLSession.with(try DatabaseAddress(seed.target.raw)) {
            try await StateStore($0, slot: slot).resume()
        }
        #expect(
            await TestClusters.eventually(timeout: .seconds(10)) { (try? await marker()) == "1" },
            "the row is applied after resume (\(when))")
    }

    /// 12 to 20 random faults on `proxy` within 20 s.
    static func faults(
        _ proxy: FaultProxy, seed: UInt64, ready: @escaping @Sendable () async -> Bool
    ) async -> [FaultProxy.Injected] {
        var generator = SplitMix64(seed: seed)
        let count = Int.random(in: 12...20, using: &generator)
        return await proxy.randomFaults(
            count: count, within: .seconds(30), gap: 150...1_000, longest: .milliseconds(2_500), ready: ready,
            using: &generator)
    }
}

/// The bridge of a seed migration run in this process with its source and target connections through fault proxies,
/// its log recorded, its streaming sessions counted and its end noted.
struct ProxiedBridge {
    let sourceProxy: FaultProxy
    let targetProxy: FaultProxy
    let log: LogRecord
    let sessions: Counter
    let outcome: Outcome
    let task: Task<Void, Error>

    /// Starts the bridge (with `adjust` applied to it) through two new proxies; returns once it streams.
    static func start(_ seed: SeedMigration, adjust: (inout Bridge) -> Void = { _ in }) async throws -> ProxiedBridge {
        let sourceProxy = try FaultProxy(to: seed.source)
        let targetProxy = try FaultProxy(to: seed.target)
        let configuration = try Configuration.parse(
            yaml: try SeedMigration.configurationText(slot: seed.configuration.slot), file: "walbridge.yml",
            environment: [
                "WALBRIDGE_SOURCE": try sourceProxy.route(seed.source).raw,
                "WALBRIDGE_TARGET": try targetProxy.route(seed.target).raw,
            ])
        let (log, sessions, outcome) = (LogRecord(), Counter(), Outcome())
        var bridge = Bridge(
            configuration: configuration,
            logger: Logger(label: "bridge-faults", factory: { RecordingLogHandler(label: $0, record: log) }))
        bridge.onStreaming = { _ in sessions.add() }
        adjust(&bridge)
        let task = Task { [bridge] in
            do {
                try await bridge.run()
                outcome.end("returned")
            } catch {
                outcome.end("threw: \(error)")
                throw error
            }
        }
        let proxied = ProxiedBridge(
            sourceProxy: sourceProxy, targetProxy: targetProxy, log: log, sessions: sessions, outcome: outcome,
            task: task)
        #expect(
            await TestClusters.eventually(timeout: .seconds(30)) { sessions.value > 0 || outcome.ended != nil },
            "the bridge starts streaming")
        if let ended = outcome.ended {
            proxied.stop()
            Issue.record("the bridge ended before any fault: it \(ended); \(log.warnings.suffix(5))")
            throw BridgeEnded()
        }
        return proxied
    }

    /// Cancels the bridge and waits for it.
    func cancel() async {
        task.cancel()
        _ = await task.result
    }

    /// Cancels the bridge and stops both proxies.
    func stop() {
        task.cancel()
        sourceProxy.stop()
        targetProxy.stop()
    }
}

/// Thrown after recording that the bridge ended before a test could fault it.
struct BridgeEnded: Error {
}

/// Samples the slot's confirmed_flush_lsn on the source, then the checkpoint in the target, every 100 ms, over direct
/// connections: a flush past the checkpoint read after it is a position the source may have discarded too early.
struct FlushSampler: Sendable {
    let seed: SeedMigration

    /// The samples taken until cancelled, and the ones where the flush passed the checkpoint.
    struct Samples: Sendable {
        var count = 0
        var violations: [String] = []
    }

    func run() async -> Samples {
        var samples = Samples()
        let slot = seed.configuration.slot
        var source: PGConnection?
        var target: PGConnection?
        while !Task.isCancelled {
            do {
                if source == nil { source = try await PGConnection.connect(seed.source) }
                if target == nil { target = try await PGConnection.connect(seed.target) }
                let flushed = try await source!.query(
                    "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", [slot]
                ).scalar
                let row = try await target!.query(
                    "SELECT applied_lsn::text, ($1::pg_lsn <= applied_lsn)::text FROM "
                        + "walbridge.progress WHERE slot = $2", [flushed, slot]
                ).rows.first
                samples.count += 1
                if let flushed, let row, row[1] == "false" {
                    samples.violations.append("confirmed_flush_lsn \(flushed) > applied_lsn \(row[0] ?? "?")")
                }
            } catch {
                await source?.close()
                await target?.close()
                (source, target) = (nil, nil)
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        await source?.close()
        await target?.close()
        return samples
    }
}

/// How a task ended, readable from anywhere.
final class Outcome: Sendable {
    private let value = Mutex<String?>(nil)

    /// nil while the task runs.
    var ended: String? { value.withLock { $0 } }

    func end(_ how: String) { value.withLock { $0 = how } }
}

/// A count shared between tasks, and when it last grew.
final class Counter: Sendable {
    private let count = Mutex((0, ContinuousClock.Instant?.none))

    var value: Int { count.withLock { $0.0 } }

    var lastAt: ContinuousClock.Instant? { count.withLock { $0.1 } }

    func add() { count.withLock { $0 = ($0.0 + 1, .now) } }
}

/// The bridge's warnings and errors, kept for a failing test's message (and printed as they come), and when the last
/// came.
final class LogRecord: Sendable {
    private let lines = Mutex<([String], ContinuousClock.Instant?)>(([], nil))

    var warnings: [String] { lines.withLock { $0.0 } }

    var lastWarningAt: ContinuousClock.Instant? { lines.withLock { $0.1 } }

    func append(_ line: String) {
        lines.withLock { $0 = ($0.0 + [line], .now) }
    }
}

/// A log handler that prints every message at info and above and records the warnings and errors.
struct RecordingLogHandler: LogHandler {
    let label: String
    let record: LogRecord
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let (level, message) = (event.level, event.message)
        let fields = metadata.merging(event.metadata ?? [:]) { $1 }.sorted { $0.key < $1.key }.map {
            "\($0.key)=\($0.value)"
        }.joined(separator: " ")
        let text = "\(level) \(message) \(fields)"
        if level >= .warning { record.append(text) }
        FileHandle.standardError.write(Data("[\(label)] \(text)\n".utf8))
    }
}
