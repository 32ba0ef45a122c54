import PGClient

/// `walbridge verify`: compares every target table with the mapping evaluated over the source, at a point the
/// bridge has applied.
///
/// Full mode hashes each side's rows into buckets by key, on its own server, and compares the buckets' counts
/// and hashes; only the buckets that differ have their row hashes fetched, and only the rows that differ their
/// columns. A sample compares the rows of random keys from both sides. While the bridge is streaming, rows that
/// differ are compared again after it has caught up once more, so a write in flight is not reported.
public struct Verifier: Sendable {
    public let configuration: Configuration
    /// Keys to compare per table, from each side; nil compares every row.
    public var sample: Int?
    /// How long to wait for the bridge to apply the source up to the verification's start.
    public var timeout: Duration = .seconds(60)
    /// Called as each table is done.
    public var onTable: @Sendable (TableVerification, _ done: Int, _ of: Int) -> Void = { _, _, _ in }

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Compares every target table; the report lists what differs.
    public func run() async throws -> VerifyReport {
        let started = ContinuousClock.now
        return try await SourceCheck.connect(configuration.source).closing { source in
            try await SourceCheck.connect(configuration.target, role: "target").closing { target in
                let point = try await catchUp(source: source, target: target)
                let sameDatabase =
                    try await SourceSetup.databaseIdentity(source) == SourceSetup.databaseIdentity(target)
                let ownRows = try await SourceSetup.describeTables(configuration, on: source).mapValues(\.ownRows)
                var tables: [TableVerification] = []
                // A target no entry inserts into holds the rows someone else wrote: the mapping cannot say which.
                let all = SharedTarget.byTarget(in: configuration)
                let targets = all.filter { $0.inserting != nil }
                let updatedOnly = all.filter { $0.inserting == nil }.map(\.into)
                for shared in targets {
                    let inPlace = shared.entries.count == 1 && sameDatabase && shared.into == shared.entries[0].table
                    let result = try await verify(
                        shared, inPlace: inPlace, rows: ownRows, point: point, source: source, target: target)
                    tables.append(result)
                    onTable(result, tables.count, targets.count)
                }
                let notCompared =
                    updatedOnly.isEmpty
                    ? ""
                    : "; not compared: \(updatedOnly.map(\.description).joined(separator: ", ")), "
                        + "which no entry inserts into (insert: never), so which "
                        + "rows \(updatedOnly.count == 1 ? "it holds" : "they hold") is not the mapping's to say"
                return VerifyReport(
                    point: point.description + (try await unfinishedBackfill(on: target)) + notCompared, tables: tables,
                    seconds: (ContinuousClock.now - started) / .seconds(1), sample: sample)
            }
        }
    }

    /// Where the comparison stands: the bridge has applied the source up to `lsn`, or it is not streaming.
    enum Point: CustomStringConvertible {
        case applied(String)
        case notStreaming(String)

        var description: String {
            switch self {
            case .applied(let lsn): return "the bridge has applied the source up to \(lsn)"
            case .notStreaming(let why):
                return
                    "\(why); the target is compared as it stands, and source changes the bridge has not "
                    + "applied show as differences"
            }
        }
    }

    /// Waits until a streaming bridge has applied the source up to now.
    private func catchUp(source: PGConnection, target: PGConnection) async throws -> Point {
        let slot = configuration.slot
        let active = try await SlotStatus.read(slot, on: source).active
        let hasState = try await Control.exists(on: target)
        if hasState, try await Control.request(slot: slot, on: target).paused {
            return .notStreaming("the bridge is paused")
        }
        guard active, hasState else { return .notStreaming("no bridge is attached to slot \(slot)") }
        let lsn = try await source.query("SELECT pg_current_wal_lsn()::text").scalar ?? "0/0"
        let seconds = String(Int(timeout.components.seconds))
        guard try await ProgressState.waitFor(
            lsn: lsn, seconds: Int(timeout.components.seconds), slot: slot, on: target)
        else {
            throw BridgeError.targetNotReady(
                "verify: the bridge has not applied the source up to \(lsn) within \(seconds) s; "
                    + "see walbridge status (or pause the bridge to verify at its position)")
        }
        return .applied(lsn)
    }

    /// A note naming the tables whose backfill has not finished (their uncopied rows show as missing), or "".
    private func unfinishedBackfill(on target: PGConnection) async throws -> String {
        let tables = try await BackfillState.unfinished(slot: configuration.slot, on: target)
        return tables.isEmpty
            ? ""
            : "; the backfill of \(tables.joined(separator: ", ")) has not finished, "
                + "so rows it has not copied yet show as missing"
    }

    /// Compares one target table with its entries (the inserting one first) evaluated over the source.
    private func verify(
        _ shared: SharedTarget, inPlace: Bool, rows: [TableName: String], point: Point, source: PGConnection,
        target: PGConnection
    ) async throws -> TableVerification {
        let mapping = shared.combined
        let typeOf = try await TargetCheck.columns(of: mapping.into, on: target).mapValues(\.type)
        // The target table's own rows, without those of tables inheriting from it.
        let kind = try await target.query(
            "SELECT relkind FROM pg_class WHERE oid = to_regclass($1)", [mapping.into.quoted])
        let targetRows = (kind.scalar == "r" ? "ONLY " : "") + mapping.into.quoted
        let sides = (
            source: VerifySide.source(shared.insertingFirst, combined: mapping, types: typeOf, rows: rows),
            target: VerifySide.target(mapping, inPlace: inPlace, rows: targetRows)
        )
        var suspects: Set<String>
        var rows: Int
        if let sample {
            async let fromSource = source.query(sides.source.sample, [String(sample)]).rows
            async let fromTarget = target.query(sides.target.sample, [String(sample)]).rows
            suspects = Set(try await fromSource.compactMap { $0[0] } + fromTarget.compactMap { $0[0] })
            rows = suspects.count
        } else {
            (suspects, rows) = try await differingKeys(sides.source, sides.target, source: source, target: target)
        }
        var differing = try await compare(suspects, mapping, sides.source, sides.target, source: source, target: target)
        if case .applied = point {
            for _ in 0..<3 where !differing.isEmpty {
                // Changes in flight during the comparison: look again once the bridge has caught up.
                _ = try await catchUp(source: source, target: target)
                differing = try await compare(
                    Set(differing.map { $0.keyText }), mapping, sides.source, sides.target, source: source,
                    target: target)
            }
        }
        let ignoresDeletes = mapping.onDelete == .ignore
        let kept = ignoresDeletes ? differing.filter { $0.mismatch.kind == Mismatch.Kind.extra }.count : 0
        let mismatches = differing.map { $0.mismatch }.filter { !ignoresDeletes || $0.kind != Mismatch.Kind.extra }
        return TableVerification(table: mapping.into, rows: rows, mismatches: mismatches, keptByOnDeleteIgnore: kept)
    }

    /// Keys of the rows whose hashes differ, found through the buckets that differ; and the source side's row count.
    private func differingKeys(
        _ sourceSide: VerifySide, _ targetSide: VerifySide, source: PGConnection, target: PGConnection
    ) async throws -> (Set<String>, Int) {
        async let fromSource = source.query(sourceSide.summary).rows
        async let fromTarget = target.query(targetSide.summary).rows
        func buckets(_ rows: [[String?]]) -> [String: [String?]] {
            Dictionary(rows.map { ($0[0] ?? "", Array($0.dropFirst())) }, uniquingKeysWith: { first, _ in first })
        }
        let (sourceBuckets, targetBuckets) = (buckets(try await fromSource), buckets(try await fromTarget))
        let rows = sourceBuckets.values.reduce(0) { $0 + (Int($1[0] ?? "") ?? 0) }
        let differing = Set(sourceBuckets.keys).union(targetBuckets.keys).filter {
            sourceBuckets[$0] != targetBuckets[$0]
        }
        guard !differing.isEmpty else { return ([], rows) }
        let bucketList = VerifySide.arrayLiteral(differing.sorted())
        async let sourceHashes = source.query(sourceSide.hashesInBuckets, [bucketList]).rows
        async let targetHashes = target.query(targetSide.hashesInBuckets, [bucketList]).rows
        func hashes(_ rows: [[String?]]) -> [String: String] {
            Dictionary(rows.map { ($0[0] ?? "", $0[1] ?? "") }, uniquingKeysWith: { first, _ in first })
        }
        let (left, right) = (hashes(try await sourceHashes), hashes(try await targetHashes))
        return (Set(left.keys).union(right.keys).filter { left[$0] != right[$0] }, rows)
    }

    /// A differing row and its key as the queries spell it.
    private struct Differing {
        var keyText: String
        var mismatch: Mismatch
    }

    /// The rows of `keys` that differ between the two sides, column by column.
    private func compare(
        _ keys: Set<String>, _ mapping: TargetMapping, _ sourceSide: VerifySide, _ targetSide: VerifySide,
        source: PGConnection, target: PGConnection
    ) async throws -> [Differing] {
        guard !keys.isEmpty else { return [] }
        let list = VerifySide.arrayLiteral(keys.sorted())
        let count = mapping.columns.count
        async let fromSource = source.query(sourceSide.columns(count: count), [list]).rows
        async let fromTarget = target.query(targetSide.columns(count: count), [list]).rows
        func byKey(_ rows: [[String?]]) -> [String: [String?]] {
            Dictionary(rows.map { ($0[0] ?? "", Array($0.dropFirst())) }, uniquingKeysWith: { first, _ in first })
        }
        let (left, right) = (byKey(try await fromSource), byKey(try await fromTarget))
        let keyNames = "(" + mapping.key.joined(separator: ", ") + ")"
        var differing: [Differing] = []
        for key in keys.sorted() {
            let shown = "\(keyNames)=\(key)"
            switch (left[key], right[key]) {
            case (nil, nil):
                continue
            case (.some, nil):
                differing.append(
                    Differing(
                        keyText: key, mismatch: Mismatch(table: mapping.into, key: shown, kind: .missing, columns: [])))
            case (nil, .some):
                differing.append(
                    Differing(
                        keyText: key, mismatch: Mismatch(table: mapping.into, key: shown, kind: .extra, columns: [])))
            case (let expected?, let actual?):
                let columns = mapping.columns.indices.filter { expected[$0] != actual[$0] }.map {
                    Mismatch.ColumnDifference(
                        column: mapping.columns[$0].column, source: expected[$0], target: actual[$0])
                }
                if !columns.isEmpty {
                    differing.append(
                        Differing(
                            keyText: key,
                            mismatch: Mismatch(table: mapping.into, key: shown, kind: .changed, columns: columns)))
                }
            }
        }
        return differing
    }
}
