import TestSupport

/// How big a case is: level 1 is the short form; the long form grows the level from case to case.
struct CaseSize: Sendable {
    var level: Int
    var maxInitialRows: Int
    var transactions: ClosedRange<Int>
    var largeRows: ClosedRange<Int>
    var maxFaults: Int
    /// Rows of the rare transaction bigger than the bridge's 20,000-row apply slice, held open, so slices are applied
    /// (and rows read back) before the source commits it; 0 = none (the short form).
    var hugeRows = 0

    /// The size at `level` (1 = short form).
    static func at(_ level: Int) -> CaseSize {
        if level <= 1 {
            return CaseSize(level: 1, maxInitialRows: 200, transactions: 60...300, largeRows: 120...300, maxFaults: 2)
        }
        let l = min(level, 20)
        return CaseSize(
            level: l, maxInitialRows: min(5000, 250 * l), transactions: (200 * l)...min(6000, 500 * l),
            largeRows: 300...min(2000, 300 + 100 * l), maxFaults: 2 + l, hugeRows: l >= 3 ? 25_000 : 0)
    }
}

/// Everything one seed determines: schema, mapping, workload, and how the bridge is started.
struct Scenario: Sendable {
    var seed: UInt64
    var size: CaseSize
    var schema: Schema
    var mapping: Mapping
    var workload: Workload
    /// `--backfill-chunk-rows`, small so backfill chunks interleave with the workload.
    var chunkRows: Int
    /// `--apply-slice-rows`: often small, so a streamed transaction's slices are written (and rows read back) before
    /// it commits; nil for the default. Drawn from a stream of its own, so the rest of a seed's case stays as it was.
    var sliceRows: Int?
    /// `--max-rows-per-second` (from the same stream): sometimes low, so the backfill lasts while the first
    /// transactions run; nil for no limit.
    var backfillRate: Int?

    /// Draws the whole case from `seed`.
    static func generate(seed: UInt64, size: CaseSize) -> Scenario {
        var rng = SplitMix64(seed: seed)
        let sessions = rng.weighted([(1, 3), (2, 4), (3, 3)])
        let transactions = rng.int(size.transactions)
        let perSession = max(5, transactions / sessions)
        let tables = 2
        var schema = SchemaGenerator(
            maxInitialRows: size.maxInitialRows, expectedInsertsPerSession: perSession / (2 * tables)
        ).generate(&rng)
        var mapping = MappingGenerator(schema: schema).generate(&rng)
        var shapes = ShapeGenerator(seed: seed)
        shapes.apply(&schema, &mapping)
        let workload = WorkloadGenerator(
            schema: schema, mapping: mapping, sessions: sessions, transactionsPerSession: perSession,
            largeRows: rng.int(size.largeRows), faults: rng.int(0...size.maxFaults), hugeRows: size.hugeRows
        ).generate(seed: seed)
        var sliceRng = SplitMix64.derived(seed, 400)
        return Scenario(
            seed: seed, size: size, schema: schema, mapping: mapping, workload: workload,
            chunkRows: rng.pick(size.level > 1 ? [10, 50, 200, 1000] : [5, 10, 20, 50]),
            sliceRows: sliceRng.pick([nil, 40, 150, 600]),
            backfillRate: sliceRng.pick([nil, nil, 100 * size.level, 400 * size.level]))
    }

    /// The source DDL: types, tables, then the in-place targets' new columns.
    var sourceDDL: [String] {
        schema.ddl + mapping.sourceDDL(schema)
    }

    /// The target DDL: the same types (so expressions see the same types) unless in place, then the target tables, with
    /// the keys drawn DEFERRABLE (which `walbridge check` must refuse, and the run then makes immediate).
    var targetDDL: [String] {
        (mapping.inPlace ? [] : schema.names.ddl) + mapping.targetDDL(deferrable: true)
    }

    /// The target DDL with every key immediate, for replays that skip `walbridge check`.
    var immediateTargetDDL: [String] {
        (mapping.inPlace ? [] : schema.names.ddl) + mapping.targetDDL(deferrable: false)
    }

    /// The command that runs this case again.
    var rerun: String {
        "scripts/differential.sh --seed \(seed)\(size.level > 1 ? " --size \(size.level)" : "")"
    }
}
