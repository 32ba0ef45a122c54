import Foundation

/// The differential test: generates cases from seeds, runs each against the bridge, shrinks failures, prints the
/// summary.
struct Differential {
    let options: Options

    /// Runs every case; the process exit status (1 on any failure).
    func run() async -> Int32 {
        if options.printOnly {
            let seed = options.seed ?? 1
            let scenario = Scenario.generate(seed: seed, size: .at(options.size ?? 1))
            Report.say(Report.shape(scenario))
            Report.say(scenario.sourceDDL.map { $0 + ";" }.joined(separator: "\n"))
            Report.say("-- target:\n" + scenario.targetDDL.map { $0 + ";" }.joined(separator: "\n"))
            Report.say(scenario.mapping.yaml(scenario.schema, source: "SOURCE", target: "TARGET", slot: "difftest"))
            // The first 15 transactions of each session, and every held-open streamed one.
            for session in scenario.workload.sessions {
                for transaction in session where transaction.index < 15 || transaction.label.contains("held open") {
                    Report.say(
                        "s\(transaction.session)#\(transaction.index) \(transaction.label): "
                            + transaction.statements.map { SQLText.abbreviated($0, limit: 200) }.joined(separator: "; ")
                    )
                }
            }
            Report.say("faults: \(scenario.workload.faults)")
            var labels: [String: Int] = [:]
            for transaction in scenario.workload.sessions.joined() { labels[transaction.label, default: 0] += 1 }
            Report.say(
                "transactions by kind: "
                    + labels.sorted { $0.value > $1.value }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
            return 0
        }
        let (found, why) = Clusters.fromEnvironment()
        guard let clusters = found else {
            Report.say("differential: \(why ?? "no clusters")")
            Report.say("0 passed, 1 failed")
            return 1
        }
        let walbridge = URL(
            fileURLWithPath: options.walbridge,
            relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        ).standardized.path
        guard FileManager.default.isExecutableFile(atPath: walbridge) else {
            Report.say("differential: no walbridge binary at \(walbridge) (build it, or pass --walbridge PATH)")
            Report.say("0 passed, 1 failed")
            return 1
        }
        do {
            try await clusters.prepareSource()
        } catch {
            Report.say("differential: cannot configure the source cluster: \(error)")
            Report.say("0 passed, 1 failed")
            return 1
        }
        let started = Date()
        let base = options.seed ?? UInt64(Date().timeIntervalSince1970 * 1000) % 1_000_000_000_000
        if options.cutover {
            let form = CutoverLongForm(
                clusters: clusters, walbridge: walbridge, minutes: options.minutes, base: base, out: options.out)
            return await form.run()
        }
        let count = options.cases ?? (options.seed != nil ? 1 : (options.long ? Int.max : 10))
        let deadline = started.addingTimeInterval(options.minutes * 60)
        Report.say(
            "differential: \(options.long ? "long form, \(options.minutes) minutes" : "short form"), "
                + "base seed \(base), walbridge \(walbridge)")
        var schemas = 0, transactions = 0, kills = 0, failures = 0, passed = 0
        var shrinkBudget = options.shrinkSeconds ?? (options.long ? 600.0 : 60.0)
        // The default short form keeps to about 3 minutes in all: no new case after 150 s, no shrinking past 165 s.
        let shortForm = !options.long && options.cases == nil && options.seed == nil
        for i in 0..<count {
            if options.long && options.cases == nil && Date() >= deadline { break }
            if shortForm && Date().timeIntervalSince(started) > 150 {
                Report.say("differential: \(count - i) case(s) not run: the short form's time is up")
                break
            }
            let seed = base &+ UInt64(i)
            // Sizes cycle 1 to 4 in the long form: a size-5 case writes gigabytes of WAL, more than this machine drains
            // in time.
            let level = options.size ?? (options.long ? 1 + (i / 2) % 4 : 1)
            let scenario = Scenario.generate(seed: seed, size: .at(level))
            let directory = "\(options.out)/difftest-\(seed)"
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            Report.say("case \(i + 1) seed \(seed)\(level > 1 ? " size \(level)" : ""):\n\(Report.shape(scenario))")
            // The backfill's rate limit alone takes rows / rate seconds (a size-4 case: 50,000 rows at 400 rows/s).
            let rows = scenario.workload.initialRows.reduce(0) { $0 + $1.count }
            let copySeconds = scenario.backfillRate.map { 2 * Double(rows) / Double(max($0, 1)) } ?? 0
            let runner = CaseRunner(
                scenario: scenario, clusters: clusters, walbridge: walbridge, directory: directory,
                settleTimeout: (level > 1 ? min(600, 120 + 30 * Double(level)) : 60) + copySeconds,
                keepFailed: options.keep)
            let plan = RunPlan(
                tag: "a", initialRows: scenario.workload.initialRows, sessions: scenario.workload.sessions,
                faults: scenario.workload.faults, check: true)
            let outcome = await runner.run(plan)
            schemas += 1
            transactions += outcome.committed.count
            kills += outcome.kills
            let rolledBack = outcome.rolledBack.sorted { $0.value > $1.value }.prefix(4)
                .map { "\($0.key)×\($0.value)" }
                .joined(separator: " ")
            let stats =
                "\(outcome.committed.count)/\(outcome.attempted) "
                + "committed\(rolledBack.isEmpty ? "" : " (rolled back: \(rolledBack))"), "
                + "\(outcome.kills) fault(s), \(String(format: "%.1f", outcome.seconds)) "
                + "s (\(outcome.phases.map { "\($0.0) \(String(format: "%.1f", $0.1))" }.joined(separator: ", ")))"
            // Errors that only a generator bug can cause (syntax, types, undefined names) are printed with their
            // statement.
            for (state, message) in outcome.firstErrors.sorted(by: { $0.key < $1.key }) where state.hasPrefix("42") {
                Report.say("  generator error \(state) (\(outcome.rolledBack[state] ?? 0)×): \(message)")
            }
            guard outcome.failed else {
                passed += 1
                Report.say("  pass: \(stats)")
                try? FileManager.default.removeItem(atPath: directory)
                continue
            }
            failures += 1
            var kinds: [String: Int] = [:]
            for difference in outcome.differences { kinds[difference.kind, default: 0] += 1 }
            let summary = kinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            Report.say("  FAIL: \(stats)\(summary.isEmpty ? "" : "; differing rows: \(summary)")")
            let yaml = (try? String(contentsOfFile: "\(directory)/walbridge-a.yml", encoding: .utf8)) ?? ""
            let report = Report.failure(scenario, outcome, yaml: yaml)
            Report.say(
                report.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
                    .joined(separator: "\n"))
            Report.write(report, to: "\(directory)/report.txt")
            Report.write(
                Report.script(
                    scenario, transactions: outcome.committed, initialRows: scenario.workload.initialRows,
                    note: "the original run's committed transactions, in commit order"),
                to: "\(directory)/original.sql")
            if shortForm { shrinkBudget = min(shrinkBudget, 165 - Date().timeIntervalSince(started)) }
            if options.shrink && !outcome.committed.isEmpty && shrinkBudget >= 10
                && (outcome.problem == nil || !outcome.problem!.hasPrefix("walbridge check")) {
                let shrinkStarted = Date()
                var shrinker = Shrinker(runner: runner, original: outcome, seconds: shrinkBudget)
                let result = await shrinker.shrink()
                if !options.long && options.shrinkSeconds == nil {
                    shrinkBudget -= Date().timeIntervalSince(shrinkStarted)
                }
                let rows = result.initialRows.reduce(0) { $0 + $1.count }
                let originalRows = scenario.workload.initialRows.reduce(0) { $0 + $1.count }
                if result.reproduced {
                    let note =
                        "shrunk in \(result.trials) replays to \(result.transactions.count) "
                        + "of \(outcome.committed.count) transactions and \(rows) of \(originalRows) initial rows"
                    var shrunk = scenario
                    shrunk.mapping = result.mapping
                    let script = Report.script(
                        shrunk, transactions: result.transactions, initialRows: result.initialRows, note: note)
                    Report.write(script, to: "\(directory)/repro.sql")
                    Report.say(
                        "  shrunk (\(String(format: "%.0f", Date().timeIntervalSince(shrinkStarted))) s): \(note)")
                    if let last = result.outcome {
                        if let problem = last.problem {
                            Report.say("    replay problem: \(problem.split(separator: "\n").first ?? "")")
                        }
                        Report.say(Report.differences(last.differences, limit: 5).joined(separator: "\n"))
                    }
                    Report.say("  reproduction script (\(directory)/repro.sql; long lines cut here):")
                    Report.say(
                        Report.abbreviatedScript(script).split(separator: "\n", omittingEmptySubsequences: false).map {
                            "    " + $0
                        }.joined(separator: "\n"))
                } else {
                    Report.say(
                        "  shrinking: the failure did not come back in a serial replay without "
                            + "faults (\(result.trials) replays); the original workload is "
                            + "in \(directory)/original.sql")
                }
            }
            Report.say(
                "  files: \(directory)/ (report.txt, original.sql, walbridge-a.yml, bridge-a.log); "
                    + "rerun: \(scenario.rerun)")
        }
        Report.say("differential: \(String(format: "%.0f", Date().timeIntervalSince(started))) s in all")
        Report.say(
            "differential: \(schemas) schemas, \(transactions) transactions, \(kills) kills, \(failures) failures")
        Report.say("\(passed) passed, \(failures) failed")
        return failures > 0 ? 1 : 0
    }
}
