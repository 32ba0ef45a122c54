import Foundation
import Glibc
import PGClient
import TestSupport

/// The cut-over's long form: random schemas with `reverse:`, application writers that follow the switch record, readers
/// and writers holding locks on the tables in either order, and `cutover`, `rollback` and `cutover --abort` repeated,
/// killed at random moments (so at every step in time), the bridge killed too. After every command: whatever it
/// left, `status` names the command that finishes it, and some schema takes writes. After every round: both schemas
/// hold every accepted write, and no write was accepted on a side after its fence's LSN.
struct CutoverLongForm {
    let clusters: Clusters
    let walbridge: String
    let minutes: Double
    let base: UInt64
    let out: String

    /// Counts for the summary.
    struct Totals {
        var schemas = 0, rounds = 0, writes = 0, cutovers = 0, switched = 0, rollbacks = 0, rolledBack = 0, aborts = 0
        var aborted = 0
        var commandKills = 0, bridgeKills = 0, fenceRefusals = 0, failures = 0
    }

    /// A failure of one round.
    struct Failure: Error, CustomStringConvertible {
        var description: String

        init(_ description: String) {
            self.description = description
        }
    }

    /// Runs schemas until the time is up; the exit status.
    func run() async -> Int32 {
        let started = Date()
        let deadline = started.addingTimeInterval(minutes * 60)
        var totals = Totals()
        Report.say("differential: cut-over long form, \(minutes) minutes, base seed \(base), walbridge \(walbridge)")
        var index: UInt64 = 0
        while Date() < deadline {
            let seed = base &+ index
            index += 1
            let schema = CutoverSchema.generate(seed: seed)
            Report.say("cut-over schema seed \(seed): \(schema.shape)")
            do {
                try await runSchema(schema, seed: seed, deadline: deadline, totals: &totals)
                totals.schemas += 1
            } catch {
                totals.schemas += 1
                totals.failures += 1
                Report.say("  FAIL seed \(seed): \(error)")
                Report.say("  rerun: scripts/differential.sh --cutover --seed \(seed) --minutes 5")
            }
        }
        Report.say("differential: \(String(format: "%.0f", Date().timeIntervalSince(started))) s in all")
        Report.say("differential: \(totals.schemas) schemas, \(totals.rounds) rounds, \(totals.writes) transactions, "
            + "\(totals.cutovers) cut-overs (\(totals.switched) switched), \(totals.rollbacks) rollbacks "
            + "(\(totals.rolledBack) rolled back), \(totals.aborts) aborts (\(totals.aborted) undid a cut-over), "
            + "\(totals.commandKills) command kills, \(totals.bridgeKills) bridge kills, "
            + "\(totals.fenceRefusals) writes refused by a fence, \(totals.failures) failures")
        Report.say("\(totals.schemas - totals.failures) passed, \(totals.failures) failed")
        return totals.failures > 0 ? 1 : 0
    }

    /// One schema: set up, the bridge started, two to four rounds, torn down.
    private func runSchema(_ schema: CutoverSchema, seed: UInt64, deadline: Date, totals: inout Totals) async throws {
        var rng = SplitMix64.derived(seed, 4_200)
        let stem = "cuttest_\(seed % 1_000_000)"
        let names = (source: stem + "_s", target: stem + "_t", slot: stem)
        let directory = "\(out)/cuttest-\(seed)"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try await Clusters.create(names.source, on: clusters.source)
        try await Clusters.create(names.target, on: clusters.target)
        let legacyDB = Clusters.database(clusters.source, names.source)
        let newDB = Clusters.database(clusters.target, names.target)
        let config = "\(directory)/walbridge.yml"
        try schema.yaml(source: legacyDB.raw, target: newDB.raw, slot: names.slot)
            .write(toFile: config, atomically: true, encoding: .utf8)
        let bridge = BridgeProcess(
            binary: walbridge, config: config, log: "\(directory)/bridge.log", chunkRows: 500, sliceRows: nil,
            backfillRate: nil)
        defer { Task { await bridge.stop() } }
        try await PGConnection.connect(legacyDB).closing { legacy in
            for statement in schema.legacyDDL(initialRows: rng.int(50...400)) { _ = try await legacy.query(statement) }
        }
        try await PGConnection.connect(newDB).closing { new in
            for statement in schema.newDDL { _ = try await new.query(statement) }
        }
        let check = await Command.run(walbridge, ["check", "--config", config], timeout: 120)
        guard check.status == 0 else {
            throw Failure("walbridge check failed:\n\(check.output)\n\(check.errors)")
        }
        try bridge.start()
        guard await bridge.waitStreaming(timeout: 120) else {
            throw Failure("the bridge did not start:\n\(bridge.tail())")
        }
        var rows: [[String: [String?]]] = []
        try await PGConnection.connect(legacyDB).closing { legacy in
            for index in schema.tables.indices {
                rows.append(try await CutoverApplication.read(schema, index, side: .legacy, on: legacy).rows)
            }
        }
        var round = CutoverRound(
            schema: schema, walbridge: walbridge, config: config, legacy: legacyDB, new: newDB, slot: names.slot,
            bridge: bridge,
            application: CutoverApplication(schema: schema, legacy: legacyDB, new: newDB, rows: rows, writers: 3))
        for number in 0..<rng.int(2...4) where Date() < deadline {
            try await round.run(seed: seed &+ UInt64(number) &* 7919, totals: &totals)
            totals.rounds += 1
            Report.say("  round \(number + 1): \(round.summary)")
        }
        await bridge.stop()
        await Clusters.drop(names.source, on: clusters.source)
        await Clusters.drop(names.target, on: clusters.target)
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// One round of the cut-over's long form on a running bridge: writers and lock holders start, the commands run, the
/// writers stop, and both schemas must come to hold what the writers had accepted.
struct CutoverRound {
    typealias Failure = CutoverLongForm.Failure

    let schema: CutoverSchema
    let walbridge: String
    let config: String
    let legacy: ConnectionString
    let new: ConnectionString
    let slot: String
    let bridge: BridgeProcess
    let application: CutoverApplication
    /// Per side, the fences that stood: their LSN and when the command that could lift them started (nil: not yet).
    private var fences: [(side: CutoverApplication.Side, lsn: UInt64, liftedFrom: Date?)] = []
    private(set) var summary = ""

    init(
        schema: CutoverSchema, walbridge: String, config: String, legacy: ConnectionString, new: ConnectionString,
        slot: String, bridge: BridgeProcess, application: CutoverApplication
    ) {
        self.schema = schema
        self.walbridge = walbridge
        self.config = config
        self.legacy = legacy
        self.new = new
        self.slot = slot
        self.bridge = bridge
        self.application = application
    }

    /// The switch record's phase and LSNs (nil when there is none).
    private func switchRecord() async -> (phase: String, fence: UInt64, rollback: UInt64)? {
        try? await PGConnection.connect(new).closing { target in
            guard let row = try await target.query(
                """
                SELECT phase, coalesce(fence_lsn::text, '0/0'), coalesce(rollback_lsn::text, '0/0')
                FROM walbridge.switch WHERE slot = $1
                """,
                [slot]).rows.first else { return nil }
            return (row[0] ?? "", LSNText.parse(row[1] ?? ""), LSNText.parse(row[2] ?? ""))
        } ?? nil
    }

    /// Where the application writes, by the switch record; nil in the middle of a switch.
    private static func side(_ phase: String?) -> CutoverApplication.Side? {
        switch phase {
        case "switched": .new
        case "cutting_over", "rolling_back": nil
        default: .legacy
        }
    }

    mutating func run(seed: UInt64, totals: inout CutoverLongForm.Totals) async throws {
        var rng = SplitMix64.derived(seed, 4_300)
        let application = application
        let newDB = new
        let slot = slot
        let state: @Sendable () async -> CutoverApplication.Side? = {
            let phase = try? await PGConnection.connect(newDB).closing { target in
                try await target.query("SELECT phase FROM walbridge.switch WHERE slot = $1", [slot]).scalar
            }
            return Self.side(phase ?? nil)
        }
        let writesBefore = await application.writes.count
        let refusedBefore = await application.refused["25006"] ?? 0
        await application.resume()
        var writers: [Task<Void, Never>] = []
        for id in 0..<3 {
            writers.append(Task { await application.write(id: id, seed: seed, switchState: state) })
        }
        var holders: [Task<Void, Never>] = []
        for holder in 0..<2 {
            let seed = seed &+ UInt64(holder)
            let (legacy, new, schema) = (legacy, new, schema)
            holders.append(Task { await Self.holdLocks(seed: seed, legacy: legacy, new: new, schema: schema) })
        }
        var done: [String] = []
        do {
            try await act(&rng, seed: seed, totals: &totals, done: &done)
        } catch {
            await application.stop()
            for task in holders { task.cancel() }
            throw error
        }
        await application.stop()
        for task in holders { task.cancel() }
        for task in writers + holders { await task.value }
        try await converge()
        try await pastFences(since: writesBefore)
        let writes = await application.writes.count - writesBefore
        let refused = (await application.refused["25006"] ?? 0) - refusedBefore
        totals.writes += writes
        totals.fenceRefusals += refused
        let unexpected = await application.unexpected
        if !unexpected.isEmpty {
            throw Failure("writes refused for no good reason:\n" + unexpected.prefix(5).joined(separator: "\n"))
        }
        summary = "\(writes) writes accepted, \(refused) refused by a fence; " + done.joined(separator: ", ")
    }

    /// Three to six actions: a cut-over (killed or not, undone or not), a rollback, a bridge killed, or a pause.
    private mutating func act(
        _ rng: inout SplitMix64, seed: UInt64, totals: inout CutoverLongForm.Totals, done: inout [String]
    ) async throws {
        for _ in 0..<rng.int(3...6) {
            try await Task.sleep(for: .milliseconds(rng.int(500...3000)))
            let record = await switchRecord()
            let killAfter = rng.chance(0.5) ? Double(rng.int(10...1500)) / 1000 : nil
            let verify = rng.pick(["skip", "sample:50", "full"])
            switch (Self.side(record?.phase), rng.int(0...9)) {
            case (_, 0...1):
                await bridge.stop()
                totals.bridgeKills += 1
                try await Task.sleep(for: .milliseconds(rng.int(0...1500)))
                try bridge.start(limited: false)
                _ = await bridge.waitStreaming(timeout: 60)
                done.append("bridge killed")
            case (.legacy?, 2...6):
                totals.cutovers += 1
                let started = Date()
                let arguments = ["cutover", "--reverse", "--verify", verify, "--max-lag", "5"]
                let result = await command(arguments, killAfter: killAfter)
                if result.killed { totals.commandKills += 1 }
                try await finish(&rng, totals: &totals)
                if let after = await switchRecord(), after.phase == "switched", record?.phase != "switched" {
                    totals.switched += 1
                    close(.new, at: started)
                    fences.append((.legacy, after.fence, nil))
                }
                done.append("cutover\(result.killed ? " killed" : result.status == 0 ? "" : " refused")")
            case (.legacy?, 7...9):
                // A cut-over killed on its way, then undone.
                totals.cutovers += 1
                totals.aborts += 1
                let started = Date()
                let killCutover = Double(rng.int(10...900)) / 1000
                let result = await command(["cutover", "--reverse", "--verify", "skip"], killAfter: killCutover)
                if result.killed { totals.commandKills += 1 }
                let killAbort = rng.chance(0.3) ? Double(rng.int(10...800)) / 1000 : nil
                let abort = await command(["cutover", "--abort"], killAfter: killAbort)
                if abort.killed { totals.commandKills += 1 }
                try await finish(&rng, totals: &totals)
                if let after = await switchRecord(), after.phase == "switched", record?.phase != "switched" {
                    totals.switched += 1
                    close(.new, at: started)
                    fences.append((.legacy, after.fence, nil))
                }
                if await switchRecord()?.phase == "aborted" { totals.aborted += 1 }
                done.append("cutover then --abort\(abort.killed ? " killed" : "")")
            case (.new?, _):
                totals.rollbacks += 1
                let started = Date()
                close(.legacy, at: started)
                let result = await command(["rollback", "--verify", verify, "--max-lag", "5"], killAfter: killAfter)
                if result.killed { totals.commandKills += 1 }
                try await finish(&rng, totals: &totals)
                if let after = await switchRecord(), after.phase == "rolled_back" {
                    totals.rolledBack += 1
                    fences.append((.new, after.rollback, nil))
                } else {
                    // Not rolled back: the legacy fence stands again from here on.
                    reopen(.legacy)
                }
                done.append("rollback\(result.killed ? " killed" : result.status == 0 ? "" : " refused")")
            default:
                done.append("waited")
            }
            try await writable()
            if let status = bridge.exitedOnItsOwn {
                throw Failure("the bridge exited by itself (status \(status)):\n\(bridge.tail(20))")
            }
        }
    }

    /// Marks the fences on `side` as liftable from `date` (a command that lifts them started).
    private mutating func close(_ side: CutoverApplication.Side, at date: Date) {
        for index in fences.indices where fences[index].side == side && fences[index].liftedFrom == nil {
            fences[index].liftedFrom = date
        }
    }

    /// A rollback that did not happen leaves the legacy fence of the last cut-over standing.
    private mutating func reopen(_ side: CutoverApplication.Side) {
        if let last = fences.lastIndex(where: { $0.side == side }) { fences[last].liftedFrom = nil }
    }

    /// Runs a walbridge command on the configuration, killing it after `killAfter` seconds if given.
    private func command(_ arguments: [String], killAfter: Double?) async -> (status: Int32, killed: Bool) {
        let result = await Command.run(walbridge, arguments + ["--config", config], timeout: killAfter ?? 180)
        return (result.status, killAfter != nil && result.status == -1)
    }

    /// Runs what `status` names until nothing is unfinished (the command it names must exist and finish it).
    private func finish(_ rng: inout SplitMix64, totals: inout CutoverLongForm.Totals) async throws {
        for _ in 0..<6 {
            let status = await Command.run(walbridge, ["status", "--json", "--config", config], timeout: 60)
            guard status.status == 0, let data = status.output.data(using: .utf8),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw Failure("walbridge status failed: \(status.errors)")
            }
            guard let unfinished = object["unfinished"] as? String else { return }
            let next: [String]
            if unfinished.contains("cutover --abort again") {
                next = ["cutover", "--abort"]
            } else if unfinished.contains("cutover again to go on") {
                next = rng.chance(0.5) ? ["cutover", "--reverse", "--verify", "skip"] : ["cutover", "--abort"]
            } else if unfinished.contains("cutover again") {
                next = ["cutover", "--reverse", "--verify", "skip"]
            } else if unfinished.contains("rollback again") {
                next = ["rollback", "--verify", "skip"]
            } else {
                throw Failure("status names no command that finishes this: \(unfinished)")
            }
            let result = await Command.run(walbridge, next + ["--config", config], timeout: 180)
            if next.contains("--abort") { totals.aborts += 1 }
            if result.status != 0 { try await Task.sleep(for: .milliseconds(500)) }
        }
        throw Failure("six commands that status named left the switch unfinished")
    }

    /// Some schema takes writes: the one the switch record names.
    private func writable() async throws {
        let record = await switchRecord()
        guard let side = Self.side(record?.phase) else {
            throw Failure("the switch is left \(record?.phase ?? "?") after the commands status named")
        }
        let database = side == .legacy ? legacy : new
        let tables = side == .legacy ? schema.tables.map(\.legacy) : schema.tables.flatMap(\.newTables)
        try await PGConnection.connect(database).closing { connection in
            for table in tables {
                do {
                    let probe = "BEGIN; DELETE FROM \(SQLText.ident(table)) WHERE false; ROLLBACK"
                    _ = try await connection.simpleQuery(probe)
                } catch let error as PGError {
                    _ = try? await connection.simpleQuery("ROLLBACK")
                    throw Failure("the switch says \(side) takes writes, but \(table) refuses them: \(error.message)")
                }
            }
        }
    }

    /// Waits until both schemas hold what the application accepted (three minutes at most).
    private func converge() async throws {
        let deadline = Date().addingTimeInterval(180)
        var last = ""
        while Date() < deadline {
            last = try await differences()
            if last.isEmpty { return }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw Failure(
            "the schemas do not hold the accepted writes after 180 s: \(last)\nbridge log:\n" + bridge.tail(20))
    }

    /// How the schemas differ from the model, in a line ("" when they do not).
    private func differences() async throws -> String {
        let model = await application.rows
        var problems: [String] = []
        for (side, database) in [(CutoverApplication.Side.legacy, legacy), (.new, new)] {
            try await PGConnection.connect(database).closing { connection in
                for index in schema.tables.indices {
                    let (rows, orphans) = try await CutoverApplication.read(schema, index, side: side, on: connection)
                    let expected = model[index]
                    let name = "\(side) \(schema.tables[index].legacy)"
                    if orphans > 0 { problems.append("\(name): \(orphans) rows without their other half") }
                    let missing = expected.filter { rows[$0.key] != $0.value }
                    let extra = rows.keys.filter { expected[$0] == nil }
                    if let first = missing.first {
                        let key = first.key.replacingOccurrences(of: "\u{1}", with: ",")
                        problems.append("\(name): \(missing.count) rows differ, e.g. key \(key): "
                            + "accepted \(first.value), holds \(rows[first.key].map { "\($0)" } ?? "nothing")")
                    }
                    if !extra.isEmpty { problems.append("\(name): \(extra.count) rows nobody wrote") }
                }
            }
        }
        return problems.joined(separator: "; ")
    }

    /// No write was accepted on a side past its fence's LSN before the command that lifts the fence started.
    private func pastFences(since first: Int) async throws {
        let writes = await application.writes.dropFirst(first)
        for fence in fences {
            let late = writes.filter {
                $0.side == fence.side && $0.lsn > fence.lsn && $0.at < (fence.liftedFrom ?? .distantFuture)
            }
            if let write = late.first {
                throw Failure("\(late.count) \(fence.side) writes accepted past the fence LSN, "
                    + "e.g. at \(write.lsn) after \(fence.lsn)")
            }
        }
    }

    /// Until cancelled: transactions that lock tables of one side in a random order (as writers and as readers) and
    /// hold them up to 2.5 s.
    private static func holdLocks(
        seed: UInt64, legacy: ConnectionString, new: ConnectionString, schema: CutoverSchema
    ) async {
        var rng = SplitMix64.derived(seed, 4_400)
        while !Task.isCancelled {
            let onLegacy = rng.chance(0.5)
            let tables = onLegacy ? schema.tables.map(\.legacy) : schema.tables.flatMap(\.newTables)
            let locks = rng.shuffled(tables).map { table in
                rng.chance(0.5)
                    ? "LOCK TABLE \(SQLText.ident(table)) IN ROW EXCLUSIVE MODE"
                    : "SELECT count(*) FROM \(SQLText.ident(table))"
            }
            let hold = Double(rng.int(50...2500)) / 1000
            _ = try? await PGConnection.connect(onLegacy ? legacy : new).closing { connection in
                let script = "SET lock_timeout = '10s'; BEGIN; \(locks.joined(separator: "; ")); "
                    + "SELECT pg_sleep(\(hold)); COMMIT"
                _ = try await connection.simpleQuery(script)
            }
            try? await Task.sleep(for: .milliseconds(rng.int(200...3000)))
        }
    }
}
