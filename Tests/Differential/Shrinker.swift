import Foundation

/// Replays a failing case's committed transactions serially (one session, no faults) on fresh databases and
/// delta-debugs them, then the initial rows, then the statements inside transactions, keeping the smallest input that
/// still fails.
struct Shrinker {
    let runner: CaseRunner
    let original: CaseOutcome
    /// The mapping being shrunk (targets that do not matter are dropped).
    private(set) var mapping: Mapping
    let deadline: Date
    private(set) var trials = 0
    /// The last failing replay's outcome.
    private(set) var lastFailure: CaseOutcome?

    init(runner: CaseRunner, original: CaseOutcome, seconds: Double) {
        self.runner = runner
        self.original = original
        mapping = runner.scenario.mapping
        deadline = Date().addingTimeInterval(seconds)
    }

    /// The smallest failing input found.
    struct Result {
        var transactions: [Transaction]
        var initialRows: [[InitialRow]]
        var mapping: Mapping
        var reproduced: Bool
        var trials: Int
        var outcome: CaseOutcome?
    }

    var timeLeft: Bool { Date() < deadline }

    /// Seconds the original run took to settle; replays may take a few times that, no more.
    private var originalSettle: Double {
        original.phases.first { $0.0 == "settle" }?.1 ?? 20
    }

    /// Whether the targets that differed originally still differ (or the same kind of problem comes back).
    private func sameFailure(_ outcome: CaseOutcome) -> Bool {
        guard outcome.failed else { return false }
        if !original.differences.isEmpty {
            let targets = Set(original.differences.map(\.target))
            return outcome.differences.contains { targets.contains($0.target) }
        }
        // The same kind of problem: its first words (the bridge exited, did not catch up, …) and the bridge's error
        // line.
        func kind(_ problem: String?) -> String {
            guard let problem else { return "" }
            let error =
                problem.split(separator: "\n").first { $0.contains("walbridge: error") }.map { String($0.prefix(60)) }
                ?? ""
            return String(problem.prefix(30)) + error
        }
        return outcome.problem != nil && outcome.differences.isEmpty
            && !(outcome.problem ?? "").hasPrefix("harness error")
            && kind(outcome.problem) == kind(original.problem)
    }

    /// Runs one serial replay; true when it shows the failure.
    private mutating func fails(
        _ transactions: [Transaction], _ initialRows: [[InitialRow]], mapping: Mapping? = nil
    ) async -> Bool {
        trials += 1
        var scenario = runner.scenario
        scenario.mapping = mapping ?? self.mapping
        let replay = CaseRunner(
            scenario: scenario, clusters: runner.clusters, walbridge: runner.walbridge, directory: runner.directory,
            settleTimeout: min(runner.settleTimeout, max(20, 3 * originalSettle)))
        let plan = RunPlan(
            tag: "r\(trials)", initialRows: initialRows, sessions: [transactions], faults: [], check: false)
        let outcome = await replay.run(plan)
        let failing = sameFailure(outcome)
        if failing { lastFailure = outcome }
        let line =
            "replay \(trials): \(mapping?.targets.count ?? self.mapping.targets.count) targets, "
            + "\(transactions.count) transactions, \(initialRows.reduce(0) { $0 + $1.count }) "
            + "initial rows: \(failing ? "fails" : "passes")"
            + "\(outcome.problem.map { " (" + ($0.split(separator: "\n").first.map(String.init) ?? "") + ")" } ?? ""), "
            + "\(String(format: "%.1f", outcome.seconds)) "
            + "s (\(outcome.phases.map { "\($0.0) \(String(format: "%.1f", $0.1))" }.joined(separator: ", ")))\n"
        Report.append(line, to: "\(runner.directory)/shrink.log")
        return failing
    }

    /// Shrinks the original run's committed workload.
    mutating func shrink() async -> Result {
        var transactions = original.committed
        var initial = runner.scenario.workload.initialRows
        var reproduced = await fails(transactions, initial)
        if !reproduced && timeLeft { reproduced = await fails(transactions, initial) }
        guard reproduced else {
            return Result(
                transactions: transactions, initialRows: initial, mapping: mapping, reproduced: false, trials: trials,
                outcome: nil)
        }

        // Whole transactions.
        if timeLeft, await fails([], initial) {
            transactions = []
        } else {
            transactions = await ddmin(transactions) { [initial] candidate, shrinker in
                await shrinker.fails(candidate, initial)
            }
        }
        // Targets that the failure does not need (the failing targets stay).
        let failing = Set((lastFailure?.differences ?? original.differences).map(\.target))
        for target in mapping.targets.reversed()
        where mapping.targets.count > 1 && timeLeft && !failing.contains(target.sql) {
            var candidate = mapping
            candidate.targets.removeAll {
                $0.table == target.table && $0.name == target.name && $0.inPlace == target.inPlace
            }
            if await fails(transactions, initial, mapping: candidate) { mapping = candidate }
        }
        // Initial rows: first only those whose key the remaining workload names (again after the statements), then
        // table by table.
        if timeLeft, let relevant = relevantRows(transactions, initial), await fails(transactions, relevant) {
            initial = relevant
        }
        // Statements inside the remaining transactions.
        for index in transactions.indices where transactions[index].statements.count > 1 && timeLeft {
            let statements = await ddmin(transactions[index].statements) {
                [transactions, initial] statements, shrinker in
                var candidate = transactions
                candidate[index].statements = statements
                return await shrinker.fails(candidate, initial)
            }
            transactions[index].statements = statements
        }
        if timeLeft, let relevant = relevantRows(transactions, initial), await fails(transactions, relevant) {
            initial = relevant
        }
        for table in initial.indices where !initial[table].isEmpty && timeLeft {
            var candidate = initial
            candidate[table] = []
            if await fails(transactions, candidate) {
                initial = candidate
                continue
            }
            let rows = await ddmin(initial[table]) { [initial, transactions] rows, shrinker in
                var candidate = initial
                candidate[table] = rows
                return await shrinker.fails(transactions, candidate)
            }
            initial[table] = rows
        }
        return Result(
            transactions: transactions, initialRows: initial, mapping: mapping, reproduced: true, trials: trials,
            outcome: lastFailure)
    }

    /// The initial rows whose key literals all appear in the workload, or nil when that keeps every row.
    private func relevantRows(_ transactions: [Transaction], _ initial: [[InitialRow]]) -> [[InitialRow]]? {
        let schema = runner.scenario.schema
        let text = transactions.flatMap(\.statements).joined(separator: "\n")
        let relevant = initial.enumerated().map { index, rows in
            rows.filter { row in
                ValueGenerator.keyLiterals(schema.tables[index], row.g, schema.names).allSatisfy { text.contains($0) }
            }
        }
        return relevant.map(\.count) == initial.map(\.count) ? nil : relevant
    }

    /// Zeller's ddmin over complements: drop chunks while the rest still fails, refining to single items.
    private mutating func ddmin<T>(_ items: [T], _ test: ([T], inout Shrinker) async -> Bool) async -> [T] {
        var items = items
        var n = 2
        while items.count >= 2 && timeLeft {
            let size = (items.count + n - 1) / n
            var reduced = false
            var start = 0
            while start < items.count && timeLeft {
                let complement = Array(items[..<start]) + Array(items[min(items.count, start + size)...])
                if !complement.isEmpty, await test(complement, &self) {
                    items = complement
                    n = max(n - 1, 2)
                    reduced = true
                    break
                }
                start += size
            }
            if !reduced {
                if n >= items.count { break }
                n = min(n * 2, items.count)
            }
        }
        return items
    }
}
