import Foundation
import Glibc
import PGClient

/// What one run of a case should do: which transactions each session runs, which faults fire, which initial rows.
struct RunPlan: Sendable {
    var tag: String
    var initialRows: [[InitialRow]]
    var sessions: [[Transaction]]
    var faults: [Fault]
    /// Run `walbridge check` first and compare a second time 2 s after a difference (the original run does; shrinking
    /// replays skip both).
    var check: Bool
}

/// What one run found.
struct CaseOutcome: Sendable {
    /// Transactions that committed, in the order their COMMITs returned.
    var committed: [Transaction] = []
    var attempted = 0
    var rolledBack: [String: Int] = [:]
    /// Per SQLSTATE, the first error message and the statement that raised it.
    var firstErrors: [String: String] = [:]
    var kills = 0
    var differences: [Difference] = []
    /// A failure that is not a row difference: check rejected the mapping, the bridge exited, it never caught up.
    var problem: String?
    /// Differences that were gone when compared again 2 s later.
    var transient = false
    var seconds = 0.0
    /// Seconds per phase, for the case line.
    var phases: [(String, Double)] = []

    var failed: Bool { problem != nil || !differences.isEmpty }
}

/// Runs one case against the clusters: databases, schema, bridge, workload with faults, settle, oracle, teardown.
struct CaseRunner: Sendable {
    let scenario: Scenario
    let clusters: Clusters
    let walbridge: String
    let directory: String
    let settleTimeout: Double
    /// Keep the databases when the run fails.
    var keepFailed = false

    /// The per-run database names and slot.
    struct Names {
        var source: String
        var target: String
        var slot: String
    }

    func names(_ tag: String) -> Names {
        let base = "difftest_\(scenario.seed)_\(tag)"
        return Names(source: base + "s", target: base + "t", slot: base)
    }

    /// Runs the plan; never throws (a harness error is reported as the outcome's problem).
    func run(_ plan: RunPlan) async -> CaseOutcome {
        let started = Date()
        let names = names(plan.tag)
        let sourceDB = Clusters.database(clusters.source, names.source)
        let targetDB = scenario.mapping.inPlace ? sourceDB : Clusters.database(clusters.target, names.target)
        let configPath = "\(directory)/walbridge-\(plan.tag).yml"
        let bridge = BridgeProcess(
            binary: walbridge, config: configPath, log: "\(directory)/bridge-\(plan.tag).log",
            chunkRows: scenario.chunkRows, sliceRows: scenario.sliceRows, backfillRate: scenario.backfillRate)
        var outcome = CaseOutcome()
        var mark = Date()
        func phase(_ name: String) {
            outcome.phases.append((name, Date().timeIntervalSince(mark)))
            mark = Date()
        }
        do {
            try await setUp(plan, names, sourceDB, targetDB)
            let yaml = scenario.mapping.yaml(
                scenario.schema, source: sourceDB.raw, target: targetDB.raw, slot: names.slot, heartbeat: true)
            try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
            phase("setup")
            if plan.check {
                outcome.problem = try await check(configPath, targetDB)
            }
            phase("check")
            if outcome.problem == nil {
                try bridge.start()
                if await bridge.waitStreaming(timeout: 60) {
                    phase("start")
                    let archiving = Task { await Self.fillArchives(scenario.mapping.targets, on: targetDB) }
                    try await workload(plan, names, sourceDB, targetDB, bridge, &outcome)
                    let archives = await archiving.value
                    phase("workload")
                    if outcome.problem == nil { try await settle(names, sourceDB, targetDB, bridge, &outcome) }
                    phase("settle")
                    if outcome.problem == nil {
                        let oracle = Oracle(scenario: scenario, source: sourceDB, target: targetDB)
                        let first = try await Timeout.run(seconds: 120, "comparing with the oracle") {
                            try await oracle.differences()
                        }
                        outcome.differences = first
                        if !first.isEmpty && plan.check {
                            try await Task.sleep(for: .seconds(2))
                            let second = try await Timeout.run(seconds: 120, "comparing with the oracle again") {
                                try await oracle.differences()
                            }
                            outcome.differences = second.isEmpty ? first : second
                            outcome.transient = second.isEmpty
                        }
                        if let touched = try await Self.touchedArchive(archives, on: targetDB) {
                            outcome.problem = touched
                        }
                    }
                } else {
                    outcome.problem =
                        "the bridge did not start streaming within 60 s; last lines of its log:\n\(bridge.tail())"
                }
            }
        } catch {
            outcome.problem = "harness error: \(error)"
        }
        if outcome.problem == nil, let status = bridge.exitedOnItsOwn {
            outcome.problem = "the bridge exited by itself (status \(status)); last lines of its log:\n\(bridge.tail())"
        }
        phase("compare")
        await bridge.stop(signal: SIGTERM, timeout: 10)
        if keepFailed && outcome.failed {
            Report.say("  kept databases \(names.source) and \(names.target) for inspection")
        } else {
            await Clusters.drop(names.source, on: clusters.source)
            if !scenario.mapping.inPlace { await Clusters.drop(names.target, on: clusters.target) }
        }
        phase("teardown")
        outcome.seconds = Date().timeIntervalSince(started)
        return outcome
    }

    /// A second into the workload, copies each archived target's rows into the table inheriting from it; returns each
    /// archive's checksum then.
    private static func fillArchives(
        _ targets: [TargetSpec], on database: ConnectionString
    ) async -> [String: String] {
        guard targets.contains(where: \.archive) else { return [:] }
        try? await Task.sleep(for: .seconds(1))
        var sums: [String: String] = [:]
        _ = try? await PGConnection.connect(database).closing { connection in
            for target in targets where target.archive {
                _ = try await connection.query("INSERT INTO \(target.archiveSQL) SELECT * FROM ONLY \(target.sql)")
                sums[target.archiveSQL] = try await checksum(target.archiveSQL, on: connection)
            }
        }
        return sums
    }

    /// The rows of `table` alone, as one checksum.
    private static func checksum(_ table: String, on connection: PGConnection) async throws -> String {
        try await connection.query(
            "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') "
                + "FROM ONLY \(table) t"
        ).scalar ?? ""
    }

    /// Why an archive's rows changed since they were copied, if one did: the bridge wrote rows it does not own.
    private static func touchedArchive(
        _ sums: [String: String], on database: ConnectionString
    ) async throws -> String? {
        guard !sums.isEmpty else { return nil }
        return try await PGConnection.connect(database).closing { connection in
            for (table, sum) in sums.sorted(by: { $0.key < $1.key }) {
                let now = try await checksum(table, on: connection)
                if now != sum {
                    return "the rows of \(table), which inherits from a target, changed (count:md5 \(sum) → \(now)): "
                        + "the bridge updated, deleted or truncated rows that are not its target's own"
                }
            }
            return nil
        }
    }

    /// Runs `walbridge check`: it must refuse each DEFERRABLE target key with the fix, which is then made, and pass.
    private func check(_ configPath: String, _ targetDB: ConnectionString) async throws -> String? {
        let deferrable = scenario.mapping.targets.filter(\.deferrableKey)
        var check = await Command.run(walbridge, ["check", "--config", configPath], timeout: 120)
        if !deferrable.isEmpty {
            let said = check.output + check.errors
            // walbridge quotes every identifier it prints.
            let unsaid = deferrable.filter { !said.contains("DROP CONSTRAINT \"\($0.name)_key\"") }
            if check.status == 0 || !unsaid.isEmpty {
                return
                    "walbridge check did not refuse the DEFERRABLE key "
                    + "of \(unsaid.map(\.name).joined(separator: ", ")) with its fix "
                    + "(status \(check.status)):\n\(said.split(separator: "\n").suffix(8).joined(separator: "\n"))"
            }
            try await PGConnection.connect(targetDB).closing { db in
                for target in deferrable { try await db.simpleQuery(target.immediateKey) }
            }
            check = await Command.run(walbridge, ["check", "--config", configPath], timeout: 120)
        }
        guard check.status != 0 else { return nil }
        return
            "walbridge check rejected the generated mapping (status \(check.status)):\n\(check.errors)"
            + "\(check.output.split(separator: "\n").suffix(5).joined(separator: "\n"))"
    }

    /// Fresh databases with the schema, the initial rows, the history triggers and the target tables.
    private func setUp(
        _ plan: RunPlan, _ names: Names, _ sourceDB: ConnectionString, _ targetDB: ConnectionString
    ) async throws {
        try await Clusters.create(names.source, on: clusters.source)
        if !scenario.mapping.inPlace { try await Clusters.create(names.target, on: clusters.target) }
        var workload = scenario.workload
        workload.initialRows = plan.initialRows
        let sourceStatements =
            scenario.sourceDDL + workload.initialSQL(scenario.schema) + scenario.schema.tables.flatMap(\.historyDDL)
            + [Mapping.heartbeatSourceDDL]
        let targetStatements =
            (plan.check ? scenario.targetDDL : scenario.immediateTargetDDL) + [Mapping.heartbeatTargetDDL]
        try await Timeout.run(seconds: 120, "creating the schema") {
            try await PGConnection.connect(sourceDB).closing { db in
                for statement in sourceStatements { try await Self.execute(statement, on: db, "source") }
            }
            try await PGConnection.connect(targetDB).closing { db in
                for statement in targetStatements { try await Self.execute(statement, on: db, "target") }
            }
        }
    }

    /// Runs one setup statement, naming it in the error.
    private static func execute(_ statement: String, on db: PGConnection, _ side: String) async throws {
        do {
            try await db.simpleQuery(statement)
        } catch {
            throw SetupError(message: "\(side) setup failed: \(error)\n  in: \(SQLText.abbreviated(statement))")
        }
    }

    /// Thrown when the bridge, restarted between the last transactions, did not catch up or start again.
    struct Stalled: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Thrown when the generated schema does not load.
    struct SetupError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// A session's leading `alone` transactions run first, one session after another; then every session's middle part,
    /// side by side, session 0 firing the faults; then, once the bridge has caught up and been restarted, the trailing
    /// `alone` ones.
    private func workload(
        _ plan: RunPlan, _ names: Names, _ sourceDB: ConnectionString, _ targetDB: ConnectionString,
        _ bridge: BridgeProcess, _ outcome: inout CaseOutcome
    ) async throws {
        let log = CommitLog()
        let faults = FaultInjector(bridge: bridge)
        let plans = plan.faults
        let parts = plan.sessions.map(SessionParts.init)
        let backfill: @Sendable (String?) async -> Void = { table in
            let result = await Command.run(
                bridge.binary, ["backfill", "--config", bridge.config] + (table.map { ["--table", $0] } ?? []),
                timeout: 60)
            if result.status != 0 {
                await log.rolledBack("walbridge backfill: status \(result.status)", result.errors, "walbridge backfill")
            }
        }
        try await Timeout.run(seconds: 1800, "running the workload") {
            for part in parts where !part.head.isEmpty {
                try await Self.session(part.head, sourceDB, log, backfill: backfill) { _ in }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (number, part) in parts.enumerated() where !part.middle.isEmpty {
                    let fires = number == 0 ? plans : []
                    group.addTask {
                        try await Self.session(part.middle, sourceDB, log, backfill: backfill) { index in
                            for fault in fires where fault.afterTransaction == index { await faults.fire(fault) }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        await faults.finish()
        outcome.kills = await faults.count
        if bridge.exitedOnItsOwn == nil && !bridge.isRunning { try bridge.start() }
        if parts.contains(where: { !$0.tail.isEmpty }) {
            try await settle(names, sourceDB, targetDB, bridge, &outcome)
            if outcome.problem == nil {
                // Without a backfill rate: a backfill asked for then reads chunk after chunk, so commits fall inside
                // windows. Each restart waits until the bridge has caught up (so that it does not cut short what the
                // last transaction started, such as a backfill's window), and each start until it streams (so that a
                // transaction that locks a table does not hold up the start).
                let restart: @Sendable () async throws -> Void = {
                    if let problem = try await self.caughtUp(names, sourceDB, targetDB, bridge) {
                        throw Stalled(message: problem)
                    }
                    await bridge.stop(signal: SIGTERM, timeout: 20)
                    try bridge.start(limited: false)
                    if await !bridge.waitStreaming(timeout: 60) {
                        throw Stalled(
                            message: "the bridge did not start streaming within 60 s; "
                                + "last lines of its log:\n\(bridge.tail())")
                    }
                }
                try await restart()
                try await Timeout.run(seconds: 600, "running the transactions alone at the end") {
                    for part in parts where !part.tail.isEmpty {
                        try await Self.session(part.tail, sourceDB, log, backfill: backfill, restart: restart) { _ in }
                    }
                }
            }
        }
        let (committed, attempted, rolledBack, firstErrors) = await log.snapshot()
        outcome.committed = committed
        outcome.attempted = attempted
        outcome.rolledBack = rolledBack
        outcome.firstErrors = firstErrors
    }

    /// One session's list cut in three: the leading `alone` transactions, the rest but the trailing `alone` ones,
    /// those.
    struct SessionParts: Sendable {
        var head: ArraySlice<Transaction>
        var middle: ArraySlice<Transaction>
        var tail: ArraySlice<Transaction>

        init(_ list: [Transaction]) {
            let first = list.firstIndex { !$0.alone } ?? list.endIndex
            let last = list[first...].lastIndex { !$0.alone }.map { $0 + 1 } ?? first
            head = list[..<first]
            middle = list[first..<last]
            tail = list[last...]
        }
    }

    /// One session: each transaction in order (`after` gets its index in the session's list; `backfill` runs where a
    /// transaction asks for it, `restart` before one that asks for it); a failed statement rolls its transaction back
    /// and the session goes on.
    private static func session(
        _ list: ArraySlice<Transaction>, _ sourceDB: ConnectionString, _ log: CommitLog,
        backfill: @Sendable (String?) async -> Void, restart: (@Sendable () async throws -> Void)? = nil,
        after: @Sendable (Int) async -> Void
    ) async throws {
        var db = try await connect(sourceDB)
        for (position, transaction) in zip(list.indices, list) {
            if transaction.restartBefore, let restart { try await restart() }
            var current = ""
            do {
                try await db.simpleQuery("BEGIN")
                for statement in transaction.statements {
                    current = statement
                    if transaction.backfillDuring && statement.hasPrefix("SELECT pg_sleep") {
                        await backfill(transaction.backfillTable)
                    }
                    try await db.simpleQuery(statement)
                }
                current = "COMMIT"
                let tag = try await db.simpleQuery("COMMIT").last?.commandTag
                if tag == "COMMIT" {
                    await log.committed(transaction)
                } else {
                    await log.rolledBack("commit: \(tag ?? "?")", "", current)
                }
            } catch {
                let state = (error as? PGError)?.sqlState ?? "\(error)"
                await log.rolledBack(state, "\(error)", current)
                if (try? await db.simpleQuery("ROLLBACK")) == nil {
                    await db.close()
                    db = try await connect(sourceDB)
                }
            }
            await after(position)
        }
        await db.close()
    }

    private static func connect(_ sourceDB: ConnectionString) async throws -> PGConnection {
        let db = try await PGConnection.connect(sourceDB, applicationName: "difftest-workload")
        try await db.simpleQuery("SET lock_timeout = '5s'; SET statement_timeout = '60s'")
        return db
    }

    /// Waits until the bridge has applied the source's current WAL position and finished every backfill. One heartbeat
    /// commit follows the LSN taken, so the checkpoint can pass it even where the bridge does not record idle
    /// keepalives (an in-place target) or when the last WAL before it is not a mapped commit.
    private func settle(
        _ names: Names, _ sourceDB: ConnectionString, _ targetDB: ConnectionString, _ bridge: BridgeProcess,
        _ outcome: inout CaseOutcome
    ) async throws {
        if let problem = try await caughtUp(names, sourceDB, targetDB, bridge) { outcome.problem = problem }
    }

    /// Nil once the bridge has applied everything the source wrote until now and finished every backfill, else why not.
    private func caughtUp(
        _ names: Names, _ sourceDB: ConnectionString, _ targetDB: ConnectionString, _ bridge: BridgeProcess
    ) async throws -> String? {
        let lsn = try await Timeout.run(seconds: 30, "reading the source LSN") {
            try await PGConnection.connect(sourceDB).closing { db in
                let lsn = try await db.query("SELECT pg_current_wal_lsn()::text").scalar ?? "0/0"
                try await db.query("UPDATE public.\(Mapping.heartbeat) SET n = n + 1")
                return lsn
            }
        }
        let tables = scenario.schema.tables.count + 1
        let slot = names.slot
        let deadline = Date().addingTimeInterval(settleTimeout)
        var state = "no progress yet"
        while Date() < deadline {
            if let status = bridge.exitedOnItsOwn {
                return "the bridge exited by itself (status \(status)) before catching up; "
                    + "last lines of its log:\n\(bridge.tail())"
            }
            let row = try? await Timeout.run(seconds: 20, "reading the bridge's progress") {
                try await PGConnection.connect(targetDB).closing { db in
                    try await db.query("""
                        SELECT (SELECT applied_lsn::text FROM walbridge.progress WHERE slot = $1),
                               (SELECT applied_lsn >= $2::pg_lsn FROM walbridge.progress WHERE slot = $1)::text,
                               (SELECT count(*) FROM walbridge.backfill WHERE slot = $1)::text,
                               (SELECT count(*) FROM walbridge.backfill WHERE slot = $1 AND state = 'done')::text,
                               (SELECT string_agg(source_table || ' ' || state || ' ' || rows_copied, \
                        ', ') FROM walbridge.backfill WHERE slot = $1)
                        """, [slot, lsn]).rows.first
                }
            }
            if let row {
                state =
                    "applied \(row[0] ?? "nothing") of \(lsn), backfill \(row[3] ?? "?")/\(tables) "
                    + "tables done: \(row[4] ?? "")"
                if row[1] == "true" && row[2] == String(tables) && row[3] == String(tables) { return nil }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        return "the bridge did not catch up within \(Int(settleTimeout)) s (\(state)); "
            + "last lines of its log:\n\(bridge.tail())"
    }
}

/// The transactions that committed, in commit order, and the reasons others rolled back.
actor CommitLog {
    private var list: [Transaction] = []
    private var attempts = 0
    private var failures: [String: Int] = [:]
    private var messages: [String: String] = [:]

    func committed(_ transaction: Transaction) {
        list.append(transaction)
        attempts += 1
    }

    func rolledBack(_ reason: String, _ message: String, _ statement: String) {
        failures[reason, default: 0] += 1
        attempts += 1
        if messages[reason] == nil {
            messages[reason] = "\(message)\n      in: \(SQLText.abbreviated(statement, limit: 300))"
        }
    }

    func snapshot() -> ([Transaction], Int, [String: Int], [String: String]) {
        (list, attempts, failures, messages)
    }
}

/// Kills or stops the bridge and restarts it, one fault at a time, without holding up the session that fired it.
actor FaultInjector {
    let bridge: BridgeProcess
    private var last: Task<Void, Never>?
    private(set) var count = 0

    init(bridge: BridgeProcess) {
        self.bridge = bridge
    }

    func fire(_ fault: Fault) {
        let previous = last
        let bridge = bridge
        count += 1
        last = Task {
            await previous?.value
            try? await Task.sleep(for: .milliseconds(fault.delayMilliseconds))
            guard bridge.exitedOnItsOwn == nil else { return }
            await bridge.stop(signal: fault.signal, timeout: 20)
            try? await Task.sleep(for: .milliseconds(fault.restartMilliseconds))
            try? bridge.start()
        }
    }

    func finish() async {
        await last?.value
    }
}
