import Logging
import PGClient
import PGOutput

/// What the bridge prepares and reads on the source before streaming.
enum SourceSetup {
    /// Reads the mapped tables from the source catalog.
    static func describeTables(
        _ configuration: Configuration, on source: PGConnection
    ) async throws -> [TableName: SourceTableInfo] {
        var tables: [TableName: SourceTableInfo] = [:]
        for mapping in configuration.tables {
            if let info = try await SourceCatalog.describe(mapping.source, on: source) { tables[mapping.source] = info }
        }
        return tables
    }

    /// A value that differs between any two databases: server start time, port and database name.
    static func databaseIdentity(_ connection: PGConnection) async throws -> String {
        try await connection.query(
            "SELECT pg_postmaster_start_time()::text || ' ' || current_setting('port') || ' ' || current_database()"
        ).scalar ?? ""
    }

    /// Creates the publication for the mapped tables, or adds the ones it lacks. It publishes partitioned tables
    /// through
    /// their root (`publish_via_partition_root`): without it pgoutput names each change's leaf partition, which no
    /// mapping names. Each table is added `ONLY`: a table inheriting from it is not mapped, and publishing it would
    /// make
    /// its updates fail on the source when it has no replica identity.
    static func ensurePublication(
        _ configuration: Configuration, tables infos: [TableName: SourceTableInfo], on source: PGConnection,
        logger: Logger
    ) async throws {
        let name = configuration.publication
        let tables = configuration.tables.map(\.source)
        let exists = try await source.query(
            "SELECT puballtables, pubviaroot FROM pg_publication WHERE pubname = $1", [name]
        ).rows.first
        guard let exists else {
            try await source.query(
                "CREATE PUBLICATION \(SQLQuoting.identifier(name)) "
                    + "FOR TABLE \(tables.map { "ONLY \($0.quoted)" }.joined(separator: ", ")) "
                    + "WITH (publish_via_partition_root = true)")
            logger.info(
                "created publication",
                metadata: ["publication": "\(name)", "tables": "\(tables.map(\.description).joined(separator: ","))"])
            return
        }
        // A publication that leaves out deletes (say) or filters rows would drop changes without a word.
        let actions = try await source.query(
            "SELECT pubinsert AND pubupdate AND pubdelete AND pubtruncate FROM pg_publication WHERE pubname = $1",
            [name]
        ).scalar
        if actions != "t" {
            throw BridgeError.sourceNotReady(
                "source: publication \(name) does not publish every kind of change; "
                    + "run ALTER PUBLICATION \(SQLQuoting.identifier(name)) SET (publish = 'insert, "
                    + "update, delete, truncate')")
        }
        let filtered = try await source.query(
            "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = $1 "
                + "AND rowfilter IS NOT NULL", [name]
        ).rows.compactMap { $0[0] }
        if !filtered.isEmpty {
            throw BridgeError.sourceNotReady(
                "source: publication \(name) filters the rows of \(filtered.joined(separator: ", ")); "
                    + "the bridge needs every row: drop the WHERE clause "
                    + "from the publication")
        }
        let partitioned = tables.filter { infos[$0]?.partitioned == true }
        if exists[1] != "t" && !partitioned.isEmpty {
            try await source.query(
                "ALTER PUBLICATION \(SQLQuoting.identifier(name)) SET (publish_via_partition_root = true)")
            logger.info("publication now publishes partitioned tables through their root", metadata: [
                "publication": "\(name)", "tables": "\(partitioned.map(\.description).joined(separator: ","))",
            ])
        }
        if exists[0] == "t" { return }
        let published = Set(try await source.query(
            "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1", [name]
        ).rows.map { TableName(schema: $0[0] ?? "", name: $0[1] ?? "") })
        for table in tables where !published.contains(table) {
            try await source.query("ALTER PUBLICATION \(SQLQuoting.identifier(name)) ADD TABLE ONLY \(table.quoted)")
            logger.info("added table to publication", metadata: ["publication": "\(name)", "table": "\(table)"])
        }
    }

    /// Makes sure the slot exists, creating it on first run. A slot that vanished or lost WAL while the
    /// target holds a checkpoint is an error: re-creating it would silently skip the changes in between.
    static func ensureSlot(_ slot: String, checkpoint: LSN?, on source: PGConnection, logger: Logger) async throws {
        let row = try await source.query(
            "SELECT plugin, database = current_database(), coalesce(wal_status, '') "
                + "FROM pg_replication_slots WHERE slot_name = $1",
            [slot]).rows.first
        guard let row else {
            if let checkpoint {
                throw BridgeError.sourceNotReady(
                    "source: replication slot \(slot) does not exist, but the target holds a checkpoint "
                        + "at \(checkpoint): the changes made since then can no longer be streamed. "
                        + "Re-create the slot and backfill again (delete the slot's row from walbridge.progress in the "
                        + "target first), or restore the slot")
            }
            let created = try await source.query(
                "SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')", [slot]
            ).scalar
            logger.info("created replication slot", metadata: ["slot": "\(slot)", "lsn": "\(created ?? "?")"])
            return
        }
        guard row[0] == "pgoutput", row[1] == "t" else {
            throw BridgeError.sourceNotReady(
                "source: replication slot \(slot) exists but is not a pgoutput slot of this database; "
                    + "choose another slot name")
        }
        if row[2] == "lost" {
            throw BridgeError.sourceNotReady(
                "source: replication slot \(slot) has lost WAL it needed (wal_status = lost; "
                    + "max_slot_wal_keep_size was exceeded): changes are missing. "
                    + "Drop and re-create the slot and backfill again")
        }
    }
}
