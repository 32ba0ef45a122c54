import Logging
import PGClient
import PGOutput

/// Writes folded rows to the target: stages them with COPY and runs each target's statements in one
/// pipeline, reading rows from the source where a change left out a value it needs. An actor of its
/// own, so the applier can fold the next slice while this one is written.
actor SliceWriter {
    private let plan: MappingPlan
    private let target: PGConnection
    private let sourceRows: SourceRows
    private let logger: Logger
    /// Each source table's statements, per target.
    let statements: [[TargetStatements]]
    /// Each source table's targets that new rows can be copied straight into (given to `prepare`).
    private(set) var copies: [[DirectCopy?]]
    /// Per source table, the staged columns read by some target's key or `when`.
    private let decisive: [Set<Int>]
    /// Per source table, the inputs of each target column whose expression reads more than one staged column.
    private let mixedInputs: [[[Int]]]

    /// A writer of `plan`'s slices to `target`.
    init(plan: MappingPlan, target: PGConnection, sourceRows: SourceRows, logger: Logger) {
        self.plan = plan
        self.target = target
        self.sourceRows = sourceRows
        self.logger = logger
        statements = plan.sources.map { source in source.targets.map { source.statements(for: $0) } }
        copies = plan.sources.map { source in source.targets.map { _ in nil } }
        decisive = plan.sources.map { source in
            source.targets.reduce(into: Set<Int>()) { $0.formUnion($1.keyDependencies.union($1.whenDependencies)) }
        }
        mixedInputs = plan.sources.map { source in source.targets.flatMap { $0.dependencies.filter { $0.count > 1 } } }
    }

    /// Sets up the target session: durable commits, joins through the target keys' indexes, and one staging table per
    /// source table; new rows go by `copies` (from `DirectCopy.plan`).
    func prepare(copies: [[DirectCopy?]]) async throws {
        // Every apply statement joins a slice of staged keys to the target's unique key. The staging tables have
        // no statistics, and a hash or merge join would read the whole target table for each slice.
        try await target.simpleQuery(
            "SET synchronous_commit = on; SET enable_hashjoin = off; SET enable_mergejoin = off")
        for source in plan.sources {
            try await target.query(source.createStaging(types: try await TargetCheck.stagingTypes(source, on: target)))
        }
        self.copies = copies
    }

    /// Closes the source connection used for reading rows, if one was opened.
    func close() async {
        await sourceRows.close()
    }

    /// Writes the rows of `source` with these row keys as the source holds them now (a dead letter retried).
    func resync(source: Int, keys: [[TupleValue]]) async throws {
        let sourcePlan = plan.sources[source]
        let placeholders = keys.map { key in
            var values = [TupleValue](repeating: .unchangedToast, count: sourcePlan.stagedColumns.count)
            for (position, value) in zip(sourcePlan.rowKey, key) { values[position] = value }
            return FoldedRow(operation: .upsert, values: values, lsn: .zero)
        }
        let rows = try await refetch(placeholders, Array(placeholders.indices), sourcePlan, visible: []).rows
        _ = try await stageAndRun(rows, source: source, upsertOnly: true)
    }

    /// Applies one source table's folded rows to all of its targets, or to those at `targets` (indexes in the source's
    /// plan); a row read back from the source reflects at least the transactions `visible`, and is written as
    /// `filling` says.
    /// Inside a `streamed` transaction, which the source has not committed yet (a row read back would be as it was
    /// before), a row that needs reading back throws `StreamingFallback`: the transaction is applied again once
    /// committed.
    func apply(
        _ folded: [FoldedRow], source: Int, upsertOnly: Bool, targets: Set<Int>? = nil, visible: [UInt32] = [],
        streamed: Bool = false, filling: ReadBack = .filled
    ) async throws {
        try await apply(
            [ApplyAction.Slice.Source(source: source, rows: folded)], upsertOnly: upsertOnly, targets: targets,
            visible: visible, streamed: streamed, filling: filling)
    }

    /// Applies a slice's source tables together, so the target's foreign keys hold after each statement: every delete
    /// first, the children's before their parents', then every write, the parents' before their children's.
    func apply(
        _ parts: [ApplyAction.Slice.Source], upsertOnly: Bool, targets: Set<Int>? = nil, visible: [UInt32] = [],
        streamed: Bool = false, filling: ReadBack = .filled
    ) async throws {
        // Where sources share a target, one source's rows (those read back too) are whole before the next updates them.
        if parts.count > 1 && plan.sharesTargets {
            for part in parts {
                try await apply(
                    [part], upsertOnly: upsertOnly, targets: targets, visible: visible, streamed: streamed,
                    filling: filling)
            }
            return
        }
        var current: [ApplyAction.Slice.Source] = []
        for part in parts {
            var rows = part.rows
            let source = part.source
            // Read the row now where a value the source did not send decides something: a key or `when` that reads it,
            // a column whose expression also reads a value that was sent (and may have changed), or a row moved to a
            // key whose target row is another row's.
            let undecidable = rows.indices.filter { index in
                let row = rows[index]
                guard row.operation == .upsert && row.hasUnchanged else { return false }
                return row.movedIn || !decisive[source].isDisjoint(with: row.unchanged)
                    || mixedInputs[source].contains { row.mixes($0) }
            }
            if !undecidable.isEmpty {
                let (read, gone) = try await readBack(
                    rows, undecidable, source: source, upsertOnly: upsertOnly, targets: targets, visible: visible,
                    streamed: streamed, filling: filling)
                rows = read.indices.filter { !gone.contains($0) }.map { read[$0] }
            }
            current.append(ApplyAction.Slice.Source(source: source, rows: rows))
        }
        let unmatched = try await stageAndRun(current, upsertOnly: upsertOnly, targets: targets)
        for (part, seqs) in zip(current, unmatched) where !seqs.isEmpty {
            // Rows with unchanged TOAST values that a target did not hold yet: write them whole, what was not sent
            // read back.
            let (refetched, gone) = try await readBack(
                part.rows, seqs.sorted(), source: part.source, upsertOnly: upsertOnly, targets: targets,
                visible: visible, streamed: streamed, filling: filling)
            let complete = seqs.sorted().filter { !gone.contains($0) }.map { refetched[$0] }.filter { !$0.hasUnchanged }
            if !complete.isEmpty {
                _ = try await stageAndRun(complete, source: part.source, upsertOnly: upsertOnly, targets: targets)
            }
        }
    }

    /// Reads the rows at `indices` back from the source (see `refetch`). A row gone by now is left to the change that
    /// removed it, later in the stream (a delete, a key change, or a TRUNCATE that a target may ignore), after the
    /// targets that keep rows got what was sent of it. Inside a `streamed` transaction, throws `StreamingFallback`.
    private func readBack(
        _ rows: [FoldedRow], _ indices: [Int], source: Int, upsertOnly: Bool, targets: Set<Int>?, visible: [UInt32],
        streamed: Bool, filling: ReadBack
    ) async throws -> (rows: [FoldedRow], gone: Set<Int>) {
        if streamed, let first = indices.first {
            throw StreamingFallback(
                reason: "a streamed transaction has rows to read back from the source, which has not committed it",
                at: rows[first].lsn)
        }
        let (current, gone) = try await refetch(rows, indices, plan.sources[source], visible: visible, filling: filling)
        try await keepWhatWasSent(
            gone.sorted().map { rows[$0] }, source: source, upsertOnly: upsertOnly, targets: targets)
        return (current, gone)
    }

    /// For targets that keep rows (`on_delete` or `on_truncate: ignore`), writes what the source sent of updated rows
    /// removed before they could be read back: the change that follows is ignored there, so without this the kept row
    /// would miss the update. A target that reads none of the values left out gets the rows whole; elsewhere the
    /// columns
    /// computed from those values keep theirs (as `check` notes; in a row moved to another's key, that row's). A target
    /// whose key or `when` reads a value not sent can't place the row. (Targets that delete rows get them too: the
    /// change
    /// that removed the row follows.)
    private func keepWhatWasSent(_ gone: [FoldedRow], source: Int, upsertOnly: Bool, targets: Set<Int>?) async throws {
        let sourcePlan = plan.sources[source]
        // Rows grouped by the values they lack, so one row's gap does not keep another's update from a target.
        for (unchanged, rows) in Dictionary(grouping: gone, by: \.unchanged).sorted(by: {
            $0.key.lexicographicallyPrecedes($1.key)
        }) {
            let unsent = Set(unchanged)
            var whole = Set<Int>(), partial = Set<Int>()
            for index in sourcePlan.targets.indices where targets?.contains(index) ?? true {
                let target = sourcePlan.targets[index]
                guard !target.inPlace && target.keepsRows
                    && target.keyDependencies.union(target.whenDependencies).isDisjoint(with: unsent) else { continue }
                if target.dependencies.allSatisfy({ $0.allSatisfy { !unsent.contains($0) } }) {
                    whole.insert(index)
                } else {
                    partial.insert(index)
                }
            }
            if !whole.isEmpty {
                // Those targets read none of the values left out: NULL stands in for them.
                let complete = rows.map { row in
                    var row = row
                    row.values = row.values.map { $0 == .unchangedToast ? .null : $0 }
                    return row
                }
                _ = try await stageAndRun(complete, source: source, upsertOnly: upsertOnly, targets: whole)
            }
            if !partial.isEmpty {
                _ = try await stageAndRun(rows, source: source, upsertOnly: upsertOnly, targets: partial)
            }
        }
    }

    /// Stages rows with COPY and runs the statements of every target (or of those at `targets`) that can match
    /// something
    /// in them; new rows go straight into the targets that take them by COPY instead. Returns the rows with unchanged
    /// values that some target did not have.
    func stageAndRun(
        _ folded: [FoldedRow], source: Int, upsertOnly: Bool, targets: Set<Int>? = nil
    ) async throws -> Set<Int> {
        try await stageAndRun(
            [ApplyAction.Slice.Source(source: source, rows: folded)], upsertOnly: upsertOnly, targets: targets)[0]
    }

    /// Stages each part's rows and runs their targets' statements in the order the target's foreign keys ask for (see
    /// `TargetRun`): one pipeline where no key orders them. Returns, per part, the rows with unchanged values that some
    /// target did not have.
    private func stageAndRun(
        _ parts: [ApplyAction.Slice.Source], upsertOnly: Bool, targets: Set<Int>?
    ) async throws -> [Set<Int>] {
        var runs: [TargetRun] = []
        var direct: [(part: Int, rank: Int, statement: String, data: [UInt8])] = []
        var truncates: [Statement] = []
        for (partIndex, part) in parts.enumerated() {
            let source = part.source
            let sourcePlan = plan.sources[source]
            var rows = part.rows
            if upsertOnly {
                // Replaying in order: upsert everything, so a target row that should not exist cannot fail the insert
                // again.
                for index in rows.indices { rows[index].fresh = false }
            }
            // A row inserted and deleted within the batch never reached the target: nothing to do, unless a
            // target ignores deletes and so must keep it.
            let keepsDeleted = sourcePlan.targets.contains { !$0.inPlace && $0.mapping.onDelete == .ignore }
            var staged = rows.indices.filter { keepsDeleted || !(rows[$0].fresh && rows[$0].operation == .delete) }
            let chosen = sourcePlan.targets.indices.filter { targets?.contains($0) ?? true }
            // Not into a target that may hold a new row's key already (it keeps deleted rows): that one upserts.
            let fresh = staged.filter { rows[$0].fresh && rows[$0].operation == .upsert }
            let copied =
                fresh.isEmpty ? [] : chosen.filter { copies[source][$0] != nil && !sourcePlan.targets[$0].keepsRows }
            if copied.count == chosen.count { staged.removeAll { rows[$0].fresh && rows[$0].operation == .upsert } }
            if !staged.isEmpty {
                try await target.copyIn(
                    "COPY \(sourcePlan.staging) FROM STDIN", data: StagingCopy.encode(rows, at: staged))
                runs += self.runs(rows, staged, part: partIndex, source: source, targets: chosen, copied: Set(copied))
                truncates.append(Statement("TRUNCATE \(sourcePlan.staging)"))
            }
            if !copied.isEmpty {
                let values = fresh.map { rows[$0].values }
                for index in copied {
                    guard let copy = copies[source][index] else { continue }
                    direct.append((
                        partIndex, plan.foreignKeys.rank(sourcePlan.targets[index].mapping.into), copy.statement,
                        copy.data(values)))
                }
            }
        }
        // Deletes, the deepest children first; then writes level by level, parents first, each part's COPYs right after
        // its statements (a later part may update the rows they insert).
        let removals = runs.enumerated().sorted { ($0.element.rank, $1.offset) > ($1.element.rank, $0.offset) }
            .flatMap(\.element.removals)
        var steps: [WriteStep] = removals.isEmpty ? [] : [.statements(removals, run: nil)]
        for level in Set(runs.map(\.rank) + direct.map(\.rank)).sorted() {
            for part in parts.indices {
                for run in runs where run.rank == level && run.part == part && !run.writes.isEmpty {
                    steps.append(.statements(run.writes, run: run))
                }
                for copy in direct where copy.rank == level && copy.part == part {
                    steps.append(.copy(copy.statement, copy.data))
                }
            }
        }
        // The staging tables are emptied with the last statements: the COPYs after them do not read them.
        let lastStatements = steps.lastIndex { if case .statements = $0 { true } else { false } }
        if !truncates.isEmpty { steps.insert(.statements(truncates, run: nil), at: lastStatements.map { $0 + 1 } ?? 0) }
        return try await perform(steps, parts: parts.count)
    }

    /// One step of a slice's writes: statements, pipelined with the statements next to them, or a COPY.
    private enum WriteStep {
        case statements([Statement], run: TargetRun?)
        case copy(String, [UInt8])
    }

    /// Performs the steps, each run of statements in one pipeline; returns, per part, the rows some target did not
    /// have.
    private func perform(_ steps: [WriteStep], parts: Int) async throws -> [Set<Int>] {
        // Consecutive statements join one pipeline, with the positions of those returning unmatched rows.
        var groups: [(statements: [Statement], partials: [(part: Int, result: Int)], copy: (String, [UInt8])?)] = []
        for step in steps {
            switch step {
            case .statements(let statements, let run):
                if groups.isEmpty || groups[groups.count - 1].copy != nil { groups.append(([], [], nil)) }
                let last = groups.count - 1
                if let run {
                    groups[last].partials += run.partialResults.map { (run.part, groups[last].statements.count + $0) }
                }
                groups[last].statements += statements
            case .copy(let statement, let data):
                groups.append(([], [], (statement, data)))
            }
        }
        var unmatched = [Set<Int>](repeating: [], count: parts)
        for group in groups {
            if let (statement, data) = group.copy {
                _ = try await target.copyIn(statement, data: data)
                continue
            }
            let results = try await target.pipeline(group.statements)
            for (part, index) in group.partials {
                for row in results[index].rows {
                    if let seq = row.first.flatMap({ $0.flatMap { Int($0) } }) { unmatched[part].insert(seq) }
                }
            }
        }
        return unmatched
    }

    /// One target's statements for staged rows: those that remove rows and those that write them.
    private struct TargetRun {
        /// The slice part (source table) the rows came from.
        let part: Int
        /// The target's depth among the target's foreign keys (`ForeignKeyOrder`).
        let rank: Int
        var removals: [Statement] = []
        var writes: [Statement] = []
        /// Positions in `writes` of the statements returning the rows they did not find.
        var partialResults: [Int] = []
    }

    /// The statements of `targets` that can match something in the rows at `staged`, except the insert of new rows
    /// into the targets `copied` (which get them by COPY).
    private func runs(
        _ rows: [FoldedRow], _ staged: [Int], part: Int, source: Int, targets: [Int], copied: Set<Int>
    ) -> [TargetRun] {
        let sourcePlan = plan.sources[source]
        var hasDelete = false, hasMoved = false, hasFresh = false, hasStale = false, hasPartial = false
        var hasKept = false, hasKeptDisplaced = false
        for index in staged {
            let row = rows[index]
            if row.operation == .delete && (row.moved || row.rekeyed || row.displaced) {
                hasMoved = true
                if row.displaced && row.deletedAfterWrite { hasKeptDisplaced = true; hasKept = true }
            } else if row.operation == .delete && row.deletedAfterWrite {
                // A delete for most targets, a write for those that ignore deletes.
                hasDelete = true
                hasKept = true
                if row.hasUnchanged { hasPartial = true } else { hasStale = true }
            } else if row.operation == .delete {
                hasDelete = true
            } else if row.fresh {
                hasFresh = true
            } else if row.hasUnchanged {
                hasPartial = true
            } else {
                hasStale = true
            }
        }
        return targets.map { index in
            let statement = statements[source][index]
            let mapped = sourcePlan.targets[index]
            var run = TargetRun(part: part, rank: plan.foreignKeys.rank(mapped.mapping.into))
            if hasKept, let collision = statement.keptCollision { run.removals.append(Statement(collision)) }
            if let delete = statement.delete,
               hasMoved || (hasDelete && mapped.removes) || (mapped.mapping.when != nil && (hasStale || hasPartial)) {
                run.removals.append(Statement(delete))
            }
            if hasKeptDisplaced, let keep = statement.keepDisplaced { run.writes.append(Statement(keep)) }
            if hasStale || (mapped.updatesOnly && hasFresh) { run.writes.append(Statement(statement.write)) }
            if hasFresh && !mapped.updatesOnly && !copied.contains(index) {
                run.writes.append(Statement(statement.insertFresh))
            }
            if hasPartial {
                // A row a target that only updates does not hold is not for it to write.
                if !mapped.updatesOnly { run.partialResults.append(run.writes.count) }
                run.writes.append(Statement(statement.writePartial))
            }
            return run
        }
    }

    /// Fills the values the rows at `indices` left out from the source's current version of each row, or takes that
    /// version whole (`filling`). A row gone from the source becomes a delete and is listed in `gone` (the change that
    /// removed it follows later in the stream).
    func refetch(
        _ rows: [FoldedRow], _ indices: [Int], _ sourcePlan: SourcePlan, visible: [UInt32], filling: ReadBack = .filled
    ) async throws -> (rows: [FoldedRow], gone: Set<Int>) {
        let folder = RowFolder(sourcePlan)
        let current = try await sourceRows.fetch(
            sourcePlan, keys: indices.map { folder.key(rows[$0].values) }, seeing: visible)
        var result = rows
        var gone = Set<Int>()
        for index in indices {
            if let values = current[folder.key(rows[index].values)] {
                result[index].values = filling == .whole ? values : zip(rows[index].values, values).map { sent, now in
                    sent == .unchangedToast ? now : sent
                }
            } else {
                logger.debug(
                    "row gone from the source; the change that removed it follows",
                    metadata: ["table": "\(sourcePlan.info.table)"])
                result[index].operation = .delete
                gone.insert(index)
            }
        }
        return (result, gone)
    }
}
