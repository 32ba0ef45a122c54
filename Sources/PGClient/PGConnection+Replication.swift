import CLibPQ

/// What `CREATE_REPLICATION_SLOT` does with the snapshot it builds.
public enum SlotSnapshot: String, Sendable {
    /// Export it for other sessions (`SET TRANSACTION SNAPSHOT`), valid until the next command.
    case export = "EXPORT_SNAPSHOT"
    /// Build none.
    case nothing = "NOEXPORT_SNAPSHOT"
    /// Use it in the current transaction of this session.
    case use = "USE_SNAPSHOT"
}

/// A slot the server created.
public struct CreatedSlot: Sendable, Equatable {
    public var name: String
    /// The LSN from which the slot streams, as PostgreSQL prints it.
    public var consistentPoint: String
    /// The exported snapshot's name, with `SlotSnapshot.export`.
    public var snapshotName: String?
}

/// What `IDENTIFY_SYSTEM` reports.
public struct SystemIdentity: Sendable, Equatable {
    public var systemID: String
    public var timeline: Int
    /// The current WAL flush position, as PostgreSQL prints it.
    public var flushLSN: String
    public var database: String?
}

extension PGConnection {
    /// Identifies the server and its current WAL position (replication sessions only).
    public func identifySystem() throws -> SystemIdentity {
        guard let row = try simpleQuery("IDENTIFY_SYSTEM").last?.rows.first, row.count >= 4 else {
            throw PGError(.protocolViolation, "IDENTIFY_SYSTEM returned no row")
        }
        return SystemIdentity(
            systemID: row[0] ?? "", timeline: Int(row[1] ?? "") ?? 0, flushLSN: row[2] ?? "0/0", database: row[3])
    }

    /// Creates a logical replication slot with the given output plugin (replication sessions only).
    public func createReplicationSlot(
        _ name: String, plugin: String = "pgoutput", temporary: Bool = false, snapshot: SlotSnapshot = .nothing
    ) throws -> CreatedSlot {
        let sql =
            "CREATE_REPLICATION_SLOT \(SQLQuoting.identifier(name))\(temporary ? " TEMPORARY" : "") "
            + "LOGICAL \(SQLQuoting.identifier(plugin)) \(snapshot.rawValue)"
        guard let row = try simpleQuery(sql).last?.rows.first, row.count >= 3 else {
            throw PGError(.protocolViolation, "CREATE_REPLICATION_SLOT returned no row")
        }
        return CreatedSlot(name: row[0] ?? name, consistentPoint: row[1] ?? "0/0", snapshotName: row[2])
    }

    /// Starts streaming a logical slot from `startLSN` with the plugin's options; the session then stays in CopyBoth
    /// mode.
    public func startReplication(slot: String, startLSN: String, options: [(name: String, value: String)]) throws {
        let conn = try connection()
        var sql = "START_REPLICATION SLOT \(SQLQuoting.identifier(slot)) LOGICAL \(startLSN)"
        if !options.isEmpty {
            sql += " (" + options.map { "\(SQLQuoting.identifier($0.name)) \(SQLQuoting.literal($0.value))" }
                .joined(separator: ", ") + ")"
        }
        guard PQsendQuery(conn, sql) == 1 else { throw sendError(conn) }
        try flushOutgoing(conn)
        guard let result = try nextResult(conn) else { throw lostError(conn) }
        let status = PQresultStatus(result)
        defer { PQclear(result) }
        guard status == PGRES_COPY_BOTH else {
            let error = status == PGRES_FATAL_ERROR
                ? PGError(result: result)
                : PGError(.protocolViolation, "START_REPLICATION did not start a stream")
            while let more = PQgetResult(conn) { PQclear(more) }
            throw error
        }
    }

    /// Reads up to `limit` CopyData messages (and about `byteLimit` bytes) of a running stream, waiting at most
    /// `timeout` for the first. Returns an empty array when none arrived in time; throws when the server ends the
    /// stream.
    public func readCopyData(limit: Int = 512, byteLimit: Int = 1 << 20, timeout: Duration) throws -> [[UInt8]] {
        let conn = try connection()
        var messages: [[UInt8]] = []
        var bytes = 0
        let deadline = ContinuousClock.now + timeout
        while messages.count < limit && bytes < byteLimit {
            var buffer: UnsafeMutablePointer<CChar>?
            let count = PQgetCopyData(conn, &buffer, 1)
            if count > 0, let buffer {
                messages.append(Array(UnsafeRawBufferPointer(start: buffer, count: Int(count))))
                bytes += Int(count)
                PQfreemem(buffer)
            } else if count == 0 {
                if !messages.isEmpty || ContinuousClock.now >= deadline { break }
                let (readable, _) = try waitSocket(read: true, write: false)
                if readable && PQconsumeInput(conn) == 0 { throw lostError(conn) }
            } else if count == -1 {
                _ = try collectResults(conn)
                throw PGError(.connectionLost, "\(endpoint) ended the replication stream")
            } else {
                throw lostError(conn)
            }
        }
        return messages
    }

    /// Sends one CopyData message on a running stream (e.g. a standby status update).
    public func sendCopyData(_ bytes: [UInt8]) throws {
        let conn = try connection()
        while true {
            let state = bytes.withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    PQputCopyData(conn, $0, Int32(buffer.count))
                }
            }
            if state < 0 { throw lostError(conn) }
            if state == 1 { break }
            let (readable, _) = try waitSocket(read: true, write: true, cancellable: false)
            if readable && PQconsumeInput(conn) == 0 { throw lostError(conn) }
        }
        try flushOutgoing(conn, cancellable: false)
    }
}
