import Foundation
import Logging
import WALBridge

/// The whole migration of the seed documents on two throwaway clusters, narrated: prepare, run the bridge
/// (backfill while the application writes), gray reads in steps, pause and resume, cut-over with reverse replication
/// while the application writes the new schema, a rehearsed rollback, and every verify at 0.
struct Demo {
    let users: Int
    let keep: Bool
    let logger: Logger

    func run() async throws {
        let started = ContinuousClock.now
        say(
            "walbridge demo: the seed documents' zero-downtime migration, with the write-ahead log "
                + "instead of dual writes")
        step("1. prepare: two throwaway PostgreSQL clusters, legacy (wal_level=logical) and new")
        let clusters = try DemoClusters()
        do {
            try await migrate(clusters, started: started)
        } catch {
            clusters.remove()
            throw error
        }
        if keep {
            say("""

                the clusters keep running (--keep):
                  legacy: psql "\(clusters.legacy)"
                  new:    psql "\(clusters.new)"
                  the configuration: \(clusters.folder.path)/walbridge.yml
                  to stop and remove them: \(clusters.removeCommand)
                """)
        } else {
            clusters.remove()
            say("   removed both clusters")
        }
    }

    private func migrate(_ clusters: DemoClusters, started: ContinuousClock.Instant) async throws {
        try await SQLSession.with(try DatabaseAddress(clusters.legacy)) { legacy in
            try await SQLSession.with(try DatabaseAddress(clusters.new)) { new in
                try await migrate(clusters, legacy: legacy, new: new, started: started)
            }
        }
    }

    private func migrate(
        _ clusters: DemoClusters, legacy: SQLSession, new: SQLSession, started: ContinuousClock.Instant
    ) async throws {
        try await legacy.execute(DemoSchema.legacy(users: users))
        try await new.execute(DemoSchema.new)
        let products = max(users / 10, 1)
        say(
            "   legacy: users (name, email, address columns) with \(users) rows, products (price in integer "
                + "cents) with \(products)")
        say(
            "   new:    users_v2 (full_name), addresses (its own table), products_v2 (price "
                + "DECIMAL(10,2) dollars), empty")

        step("2. walbridge check and run, with the example configuration (examples/walbridge.yml)")
        let configFile = clusters.folder.appendingPathComponent("walbridge.yml")
        try ExampleConfiguration.text.write(to: configFile, atomically: true, encoding: .utf8)
        let configuration = try Configuration.parse(
            yaml: ExampleConfiguration.text, file: configFile.path,
            environment: ["WALBRIDGE_SOURCE": clusters.legacy, "WALBRIDGE_TARGET": clusters.new])
        let check = try await Check.run(configuration)
        guard check.problems.isEmpty else {
            throw DemoError("check failed: \(check.problems.map(\.description).joined(separator: "; "))")
        }
        say("   check passed: 3 targets, every expression prepared on the new database")
        let state = StateStore(new, slot: configuration.slot)
        let app = DemoApplication(legacy: configuration.source, new: configuration.target, users: users)
        await app.start()
        say("   the legacy application keeps writing (renames, address changes, sign-ups, deletions, price changes)")
        let bridge = Task { [logger] in try await Bridge(configuration: configuration, logger: logger).run() }
        defer { bridge.cancel() }
        // As walbridge run does with reverse:, the reverse direction runs beside it, paused until the cut-over.
        guard let reversed = configuration.reversed else {
            throw DemoError("the example configuration has no reverse: mapping")
        }
        let reverse = Task { [logger] in
            var reverse = Bridge(configuration: reversed, logger: logger)
            reverse.startsPaused = true
            try await reverse.run()
        }
        defer { reverse.cancel() }
        let backfillStart = ContinuousClock.now
        try await waitFor("the backfill", timeout: .seconds(60)) {
            let tables = try? await state.backfill()
            return tables?.count == 2 && tables?.allSatisfy { $0.state == .done } == true
        }
        let copied = try await state.backfill().map(\.rowsCopied).reduce(0, +)
        say(
            "   backfill: \(copied) existing rows copied in chunks in \(Self.seconds(since: backfillStart)), "
                + "while \(app.writes) application writes streamed")

        step("3. gray reads: a share of reads, routed by user id, goes to the new schema; each is compared with legacy")
        for share in [1, 10, 50, 100] {
            let reads = try await grayReads(share: share, legacy: legacy, new: new, state: state)
            say(
                "   \(String(share).leftPadded(3))% of users read the new schema: \(reads.new) of \(reads.total) "
                    + "reads served by users_v2 + addresses, mismatches: \(reads.mismatches)")
            guard reads.mismatches == 0 else { throw DemoError("a gray read differed from legacy") }
        }

        step("4. pause and resume (walbridge pause / walbridge resume)")
        try await state.pause(at: nil)
        try await waitFor("the pause", timeout: .seconds(10)) {
            (try? await BridgeStatus.read(configuration))?.state == "paused"
        }
        let pausedAt = try await appliedLSN(state)
        try await Task.sleep(for: .seconds(1))
        let lag = try await BridgeStatus.read(configuration).lagBytes ?? 0
        let stillAt = try await appliedLSN(state)
        say(
            "   paused at \(pausedAt): a second later the target is still at \(stillAt), the slot holds \(lag) "
                + "bytes of WAL for it")
        let resumed = ContinuousClock.now
        try await state.resume()
        let now = try await currentLSN(legacy)
        try await waitFor("the catch-up", timeout: .seconds(30)) { try await state.waitFor(now, seconds: 1) }
        say("   resumed: caught up with the legacy database in \(Self.seconds(since: resumed))")

        step(
            "5. walbridge cutover --reverse, while the application keeps writing: gates, fence, "
                + "exact drain, sequences, switch")
        var options = CutoverOptions()
        options.reverse = true
        options.maxLag = .seconds(5)
        let refusedBefore = app.refused
        var cutting = Cutover(configuration: configuration, options: options, say: { say("   " + $0) })
        cutting.onSwitched = { app.write(to: .new) }
        let cutover = try await cutting.run()
        guard case .done(let switched) = cutover else { throw DemoError("cutover did not switch: \(cutover)") }
        say(
            "   the application's feature switch: writes go to users_v2, addresses and products_v2 "
                + "(\(app.refused - refusedBefore) writes were refused by the fence meanwhile)")
        say(String(format: "   writes were unavailable for %.0f ms", switched.unavailableMilliseconds ?? 0))

        step("6. the application writes the new schema; reverse replication keeps the legacy tables current")
        let writesBefore = app.writes
        try await Task.sleep(for: .seconds(3))
        try await verify(
            reversed, "verify --reverse (the legacy tables against reverse: over the new ones)",
            writes: app.writes - writesBefore)

        step("7. walbridge rollback: the rehearsed way back")
        var rollingBack = Rollback(configuration: configuration, say: { say("   " + $0) })
        rollingBack.onLegacyOpen = { app.write(to: .legacy) }
        let rollback = try await rollingBack.run()
        guard case .done = rollback.0 else { throw DemoError("rollback did not finish: \(rollback.0)") }
        guard rollback.1?.mismatchCount == 0 else {
            throw DemoError("rollback's verify found \(rollback.1?.mismatchCount ?? -1) mismatches")
        }
        say(
            "   the feature switch back: writes go to the legacy tables again; rollback's verify: "
                + "\(rollback.1?.mismatchCount ?? 0) mismatches")
        let legacyWrites = app.writes
        try await Task.sleep(for: .seconds(2))
        await app.stop()
        try await verify(
            configuration, "verify (the new tables against the mapping over the legacy ones)",
            writes: app.writes - legacyWrites)

        step(
            "8. contract, once the way back is no longer wanted: walbridge cutover (--reverse), "
                + "stop walbridge run, slot drop")
        say("   then drop the legacy columns or tables, and the walbridge schema when its history is no longer needed")
        say(
            "done in \(Self.seconds(since: started)): \(copied) rows backfilled, \(app.writes) application writes, "
                + "\(app.refused) refused by a fence, every verify at 0 mismatches")
    }

    /// Verifies `configuration`'s direction and says so; fails on a mismatch.
    private func verify(_ configuration: Configuration, _ what: String, writes: Int) async throws {
        let report = try await Verifier(configuration: configuration).run()
        for table in report.tables {
            say("   \(table.table): \(table.rows) rows, mismatches: \(table.mismatches.count)")
            for mismatch in table.mismatches.prefix(5) { say("     \(mismatch)") }
        }
        say(
            "   \(what) after \(writes) application writes: mismatches: \(report.mismatchCount) "
                + "(\(String(format: "%.1f", report.seconds)) s)")
        guard report.mismatchCount == 0 else { throw DemoError("verify found \(report.mismatchCount) mismatches") }
    }

    /// Reads 200 random users the way a gray-read router would, and compares each answer from the new schema with
    /// legacy.
    private func grayReads(
        share: Int, legacy: SQLSession, new: SQLSession, state: StateStore
    ) async throws -> (total: Int, new: Int, mismatches: Int) {
        var served = 0
        var mismatches = 0
        let total = 200
        let newest = Int(try await legacy.scalar("SELECT max(id)::text FROM users") ?? "") ?? users + 1_000
        for _ in 0..<total {
            let user = Int.random(in: 1_001...newest)
            guard user % 100 < share else { continue }
            let id = String(user)
            served += 1
            // Read your writes: the legacy answer and its LSN, then the new schema once the bridge has applied that
            // LSN.
            let before = try await legacy.pipeline([
                (DemoSchema.legacyRead, [id]), ("SELECT pg_current_wal_lsn()::text", [])
            ])
            let written = before[1].first?.first ?? nil
            _ = try await state.waitFor(written.flatMap { WALPosition($0) } ?? Self.start, seconds: 5)
            let answer = try await new.query(DemoSchema.newRead, [id])
            if answer != before[0] {
                // The application may have changed the user in between: compare with legacy's newer answer.
                let again = try await legacy.query(DemoSchema.legacyRead, [id])
                if again != answer {
                    mismatches += 1
                    say("     user \(id): legacy \(before[0]) then \(again), new schema \(answer)")
                }
            }
        }
        return (total, served, mismatches)
    }

    private func appliedLSN(_ state: StateStore) async throws -> String {
        try await state.appliedLSN()?.description ?? "-"
    }

    /// The legacy database's current WAL position.
    private func currentLSN(_ legacy: SQLSession) async throws -> WALPosition {
        WALPosition(try await legacy.scalar("SELECT pg_current_wal_lsn()::text") ?? "0/0") ?? Self.start
    }

    /// The start of the log, 0/0.
    private static let start = WALPosition("0/0")!

    /// Polls `condition` every 100 ms; fails once `timeout` has passed (the bridge logs why it stopped, if it did).
    private func waitFor(_ what: String, timeout: Duration, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw DemoError("\(what) did not happen within \(timeout)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    private func step(_ text: String) { say("\n" + text) }
    private func say(_ text: String) { print(text) }

    private static func seconds(since start: ContinuousClock.Instant) -> String {
        String(format: "%.1f s", (ContinuousClock.now - start) / .seconds(1))
    }
}

extension String {
    /// The string with spaces before it up to `width` characters.
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(width - count, 0)) + self }
}
