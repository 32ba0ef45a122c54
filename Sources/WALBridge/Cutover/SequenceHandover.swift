import PGClient

/// Hands the sequences over at a switch: every sequence behind a column of the direction's targets (serial, identity,
/// or a default `nextval`) is set so that its next value lies past every value the bridge copied into the column and
/// past the source sequence it replaces (the one behind the source column a bare column expression copies).
struct SequenceHandover: Sendable {
    /// One sequence, before and after.
    struct Change: Sendable, CustomStringConvertible {
        let table: TableName
        let column: String
        let sequence: String
        /// The value `nextval` would have given, and gives after the handover.
        let before: Int64
        let after: Int64
        /// Why `after`: the largest value copied, the source sequence's.
        let copiedMax: Int64?
        let sourceSequence: (name: String, next: Int64)?
        /// Set when the sequence was left alone, and why.
        var skipped: String? = nil

        var description: String {
            if let skipped { return "\(table).\(SQLIdentifier.display(column)): \(sequence) not changed: \(skipped)" }
            var reasons: [String] = []
            if let copiedMax { reasons.append("largest \(column) copied \(copiedMax)") }
            if let sourceSequence { reasons.append("\(sourceSequence.name) would give \(sourceSequence.next)") }
            let moved = after == before ? "stays at " : "next value \(before) → "
            return "\(table).\(SQLIdentifier.display(column)): \(sequence) "
                + "\(moved)\(after)\(reasons.isEmpty ? "" : " (\(reasons.joined(separator: "; ")))")"
        }
    }

    let configuration: Configuration

    /// The changes the handover makes (`apply`: and makes them).
    func run(source: PGConnection, target: PGConnection, apply: Bool) async throws -> [Change] {
        var changes: [Change] = []
        var done = Set<TableName>()
        // Each source table's sequences, read once: the handover runs inside the write-unavailable window.
        var sourceSequences: [TableName: [(column: String, name: String, increment: Int64)]] = [:]
        for table in configuration.tables {
            for mapping in table.targets where done.insert(mapping.into).inserted {
                let feeders = configuration.tables.flatMap { t in
                    t.targets.filter { $0.into == mapping.into }.map { (t.source, $0) }
                }
                for sequence in try await Self.sequences(of: mapping.into, on: target) {
                    guard sequence.increment > 0 else {
                        changes.append(Change(
                                table: mapping.into, column: sequence.column, sequence: sequence.name, before: 0,
                                after: 0, copiedMax: nil,
                                sourceSequence: nil,
                                skipped: "it descends (increment \(sequence.increment)); "
                                    + "set it past the copied values by hand"))
                        continue
                    }
                    let copied = try await target.query(
                        "SELECT max(\(SQLQuoting.identifier(sequence.column)))::text FROM \(mapping.into.quoted)"
                    ).scalar.flatMap { Int64($0) }
                    var replaced: (name: String, next: Int64)?
                    // Any source column with a sequence that the column's expression reads (id, id::bigint, id + 0):
                    // going past a sequence the column does not really copy only skips some values.
                    for (sourceTable, feeder) in feeders {
                        guard let expression = feeder.columns.first(where: { $0.column == sequence.column })?.expression
                        else { continue }
                        if sourceSequences[sourceTable] == nil {
                            sourceSequences[sourceTable] = try await Self.sequences(of: sourceTable, on: source)
                        }
                        let theirs = (sourceSequences[sourceTable] ?? []).filter { $0.increment > 0 }
                        let read = ExpressionReferences.columns(in: expression, among: Set(theirs.map(\.column)))
                        for candidate in theirs where read.contains(candidate.column) {
                            let next = try await Self.next(candidate.name, on: source)
                            if next > replaced?.next ?? .min { replaced = (candidate.name, next) }
                        }
                    }
                    let current = try await Self.next(sequence.name, on: target)
                    let floor = max(
                        copied.map { $0 + sequence.increment } ?? current, replaced?.next ?? current, current)
                    if apply && floor != current {
                        try await target.query(
                            "SELECT setval($1::regclass, $2::bigint, true)",
                            [sequence.name, String(floor - sequence.increment)])
                    }
                    changes.append(Change(
                            table: mapping.into, column: sequence.column, sequence: sequence.name, before: current,
                            after: floor,
                        copiedMax: copied, sourceSequence: replaced))
                }
            }
        }
        return changes
    }

    /// The value `nextval` of `sequence` gives next.
    private static func next(_ sequence: String, on database: PGConnection) async throws -> Int64 {
        let row = try await database.query("""
            SELECT s.last_value::text, s.is_called::text, q.seqincrement::text
            FROM \(sequence) s, pg_sequence q WHERE q.seqrelid = $1::regclass
            """, [sequence]).rows.first
        let last = row?[0].flatMap { Int64($0) } ?? 1
        return row?[1] == "true" ? last + (row?[2].flatMap { Int64($0) } ?? 1) : last
    }

    /// The sequences behind `table`'s columns: serial and identity columns, and defaults calling `nextval`.
    private static func sequences(
        of table: TableName, on database: PGConnection
    ) async throws -> [(column: String, name: String, increment: Int64)] {
        try await database.query("""
            SELECT a.attname, s.seq::regclass::text, q.seqincrement::text
            FROM pg_attribute a
            CROSS JOIN LATERAL (
                SELECT pg_get_serial_sequence($1, a.attname)::regclass AS seq
                UNION
                SELECT d.refobjid::regclass FROM pg_attrdef ad
                JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid \
            AND d.refclassid = 'pg_class'::regclass
                JOIN pg_class c ON c.oid = d.refobjid AND c.relkind = 'S'
                WHERE ad.adrelid = a.attrelid AND ad.adnum = a.attnum
            ) s
            JOIN pg_sequence q ON q.seqrelid = s.seq
            WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND s.seq IS NOT NULL
            ORDER BY a.attnum
            """, [table.quoted]).rows.compactMap { row in
            guard let column = row[0] ?? nil, let name = row[1] ?? nil, let increment = row[2].flatMap({ Int64($0) })
            else { return nil }
            return (column, name, increment)
        }
    }
}
