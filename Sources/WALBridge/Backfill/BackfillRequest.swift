import PGClient

/// `walbridge backfill`: asks for tables to be copied again, by the running bridge or the next `walbridge run`.
public enum BackfillRequest {
    /// Marks `table` (or every mapped table) to be copied from its first row; returns the progress rows and
    /// whether a bridge is attached to the slot now (it then starts within a second).
    public static func request(_ configuration: Configuration, table: TableName?) async throws -> (tables: [BackfillProgress], running: Bool) {
        let mapped = configuration.tables.map(\.source)
        if let table, !mapped.contains(table) {
            throw BridgeError.targetNotReady("\(table) is not a mapped source table; the configuration maps \(mapped.map(\.description).joined(separator: ", "))")
        }
        let running = try await SourceCheck.connect(configuration.source).closing { source in
            try await source.query("SELECT active FROM pg_replication_slots WHERE slot_name = $1", [configuration.slot]).scalar == "t"
        }
        return try await SourceCheck.connect(configuration.target, role: "target").closing { target in
            try await StateSchema.ensure(on: target)
            for name in table.map({ [$0] }) ?? mapped {
                try await BackfillState.requestAgain(slot: configuration.slot, table: name, on: target)
            }
            return (try await progress(configuration.slot, on: target), running)
        }
    }

    /// The backfill progress of every table of the slot.
    static func progress(_ slot: String, on target: PGConnection) async throws -> [BackfillProgress] {
        try await target.query("""
            SELECT source_table, state, rows_copied, rows_estimated FROM walbridge.backfill WHERE slot = $1 ORDER BY source_table
            """, [slot]).rows.map { row in
            BackfillProgress(table: row[0] ?? "", state: row[1] ?? "", rowsCopied: Int(row[2] ?? "") ?? 0, rowsEstimated: row[3].flatMap { Int($0) })
        }
    }
}
