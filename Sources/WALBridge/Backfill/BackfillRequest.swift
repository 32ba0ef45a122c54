import PGClient

/// `walbridge backfill`: asks for tables to be copied again, by the running bridge or the next `walbridge run`.
public enum BackfillRequest {
    /// Marks `table` (or every mapped table) to be copied from its first row; returns the progress rows and
    /// whether a bridge is attached to the slot now (it then starts within a second).
    public static func request(
        _ configuration: Configuration, table: TableName?
    ) async throws -> (tables: [BackfillProgress], running: Bool) {
        let mapped = configuration.tables.map(\.source)
        if let table, !mapped.contains(table) {
            throw BridgeError.targetNotReady(
                "\(table) is not a mapped source table; the configuration "
                    + "maps \(mapped.map(\.description).joined(separator: ", "))")
        }
        let running = try await SourceCheck.connect(configuration.source).closing { source in
            try await SlotStatus.read(configuration.slot, on: source).active
        }
        return try await SourceCheck.connect(configuration.target, role: "target").closing { target in
            try await StateSchema.ensure(on: target)
            for name in table.map({ [$0] }) ?? mapped {
                try await BackfillState.requestAgain(slot: configuration.slot, table: name, on: target)
            }
            return (try await BackfillState.progress(slot: configuration.slot, on: target), running)
        }
    }

}
