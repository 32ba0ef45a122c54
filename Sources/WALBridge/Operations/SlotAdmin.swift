import Logging
import PGClient
import PGOutput

/// `walbridge slot create | drop`: the publication and the replication slot, managed by hand.
public enum SlotAdmin {
    /// What the target's state schema still holds for a slot.
    public struct Leftovers: Sendable, Equatable {
        public var appliedLSN: String?
        public var backfillTables: Int
        public var deadLetters: Int

        /// One line for the operator, or nil when nothing is left.
        public var summary: String? {
            guard appliedLSN != nil || backfillTables > 0 || deadLetters > 0 else { return nil }
            var parts: [String] = []
            if let appliedLSN { parts.append("a checkpoint at \(appliedLSN)") }
            if backfillTables > 0 { parts.append("backfill progress for \(backfillTables) table(s)") }
            if deadLetters > 0 { parts.append("\(deadLetters) dead letter(s)") }
            return parts.joined(separator: ", ")
        }
    }

    /// Creates the publication (for exactly the mapped tables) and the pgoutput slot if missing. Refuses to
    /// create a slot that vanished while the target holds a checkpoint: the changes in between are gone.
    public static func create(_ configuration: Configuration, logger: Logger) async throws -> SlotStatus {
        let checkpoint = try await SourceCheck.connect(configuration.target, role: "target").closing { target in
            try await StateSchema.ensure(on: target)
            return try await ProgressState.checkpoint(slot: configuration.slot, on: target)
        }
        try await SourceCheck.checkForLogicalReplication(configuration.source, publications: [])
        return try await SourceCheck.connect(configuration.source).closing { source in
            let tables = try await SourceSetup.describeTables(configuration, on: source)
            for mapping in configuration.tables where tables[mapping.source] == nil {
                throw BridgeError.sourceNotReady(
                    "source: table \(mapping.source) does not exist; create it or remove it from tables")
            }
            try await SourceSetup.ensurePublication(configuration, tables: tables, on: source, logger: logger)
            try await SourceSetup.ensureSlot(configuration.slot, checkpoint: checkpoint, on: source, logger: logger)
            return try await SlotStatus.read(configuration.slot, on: source)
        }
    }

    /// Drops the slot and the publication. Refuses while a bridge is attached unless `force` (which ends its
    /// walsender first); returns what the target's state schema still holds for the slot.
    public static func drop(_ configuration: Configuration, force: Bool, logger: Logger) async throws -> Leftovers {
        try await SourceCheck.connect(configuration.source).closing { source in
            let slot = try await SlotStatus.read(configuration.slot, on: source)
            if slot.active {
                guard force, let pid = slot.activePID else {
                    throw BridgeError.sourceNotReady(
                        "source: a bridge is attached to slot \(configuration.slot) "
                            + "(walsender pid \(slot.activePID.map(String.init) ?? "?")); stop it first, "
                            + "or pass --force to end its connection and drop anyway")
                }
                try await source.query("SELECT pg_terminate_backend($1::int)", [String(pid)])
                logger.warning(
                    "ended the walsender attached to the slot",
                    metadata: ["slot": "\(configuration.slot)", "pid": "\(pid)"])
            }
            if slot.exists {
                try await dropSlot(configuration.slot, on: source)
                logger.info("dropped replication slot", metadata: ["slot": "\(configuration.slot)"])
            }
            if try await source.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [configuration.publication])
                .scalar != nil {
                try await source.query("DROP PUBLICATION \(SQLQuoting.identifier(configuration.publication))")
                logger.info("dropped publication", metadata: ["publication": "\(configuration.publication)"])
            }
        }
        return try await SourceCheck.connect(configuration.target, role: "target").closing { target in
            try await StateSchema.ensure(on: target)
            let applied = try await ProgressState.checkpoint(slot: configuration.slot, on: target)
            let tables = try await BackfillState.count(slot: configuration.slot, on: target)
            let letters = try await DeadLetters.count(slot: configuration.slot, on: target)
            return Leftovers(appliedLSN: applied?.description, backfillTables: tables, deadLetters: letters)
        }
    }

    /// Drops the slot, waiting a moment for a just-ended walsender to release it.
    private static func dropSlot(_ slot: String, on source: PGConnection) async throws {
        for attempt in 0..<50 {
            do {
                try await source.query("SELECT pg_drop_replication_slot($1)", [slot])
                return
            } catch let error as PGError where error.sqlState == "55006" && attempt < 49 {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}
