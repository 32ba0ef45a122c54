import Logging
import PGClient
import PGOutput

/// Target sessions beside the apply session that write a backfill chunk's rows to its targets side by side, each
/// session in a transaction of its own; opened at the first chunk.
///
/// A chunk's rows hold the source's values at its high watermark, so writing them is idempotent: the apply session
/// commits everything before the watermark first, waits for every part, and only then records the chunk's progress
/// and checkpoint. A crash in between leaves rows that the replay from the older checkpoint and the chunk read again
/// bring to the same values.
///
/// Each session first writes its rows as plain inserts, which cost half an upsert: straight `COPY` into a target that
/// takes them so (see `DirectCopy`) or whose columns the source computed (see `SourceEvaluation`), else an
/// `INSERT … SELECT` from the staging table. A key the target
/// already holds (the stream wrote it) makes that fail; the rows are then written again as upserts.
final class ChunkWriters {
    private let plan: MappingPlan
    private let sessions: Int
    private let connect: @Sendable () async throws -> PGConnection
    private let sourceRows: SourceRows
    /// Starts each chunk transaction where the reverse direction must skip it.
    private let marker: Statement?
    private let logger: Logger
    private var writers: [ChunkSession] = []

    /// Writers over `sessions` target sessions opened with `connect`.
    init(
        plan: MappingPlan, sessions: Int, sourceRows: SourceRows, marker: Statement?, logger: Logger,
        connect: @escaping @Sendable () async throws -> PGConnection
    ) {
        self.plan = plan
        self.sessions = sessions
        self.sourceRows = sourceRows
        self.marker = marker
        self.logger = logger
        self.connect = connect
    }

    /// Writes the chunk's rows, each session writing some of the source table's targets (like one `COPY` per target
    /// table side by side); returns once every session has committed or rolled back, with a rejection when a target
    /// refused one of the rows (the sessions that were refused wrote nothing).
    func write(_ chunk: BackfillChunk) async throws -> PGError? {
        guard !chunk.rows.isEmpty else { return nil }
        if writers.isEmpty { try await open() }
        // Targets joined by a foreign key go to one session, which writes the parent first.
        let groups = plan.writeGroups(of: chunk.source)
        return try await withThrowingTaskGroup(of: PGError?.self) { group in
            for (index, writer) in writers.enumerated() {
                let share = Set(groups.indices.filter { $0 % writers.count == index }.flatMap { groups[$0] })
                if share.isEmpty { continue }
                group.addTask { try await writer.write(chunk, targets: share) }
            }
            var rejection: PGError?
            for try await refused in group where rejection == nil { rejection = refused }
            return rejection
        }
    }

    /// Closes the sessions.
    func close() async {
        for writer in writers { await writer.close() }
        writers.removeAll()
        await sourceRows.close()
    }

    private func open() async throws {
        var opened: [PGConnection] = []
        do {
            // The sessions share one plan of direct copies, found on the first.
            var copies: [[DirectCopy?]] = []
            for session in 0..<sessions {
                let connection = try await connect()
                opened.append(connection)
                if session == 0 { copies = try await DirectCopy.plan(plan, on: connection) }
                let writer = SliceWriter(plan: plan, target: connection, sourceRows: sourceRows, logger: logger)
                try await writer.prepare(copies: copies)
                writers.append(ChunkSession(plan: plan, target: connection, writer: writer, marker: marker))
            }
        } catch {
            writers.removeAll()
            for connection in opened { await connection.close() }
            throw error
        }
        logger.debug("backfill writer sessions opened", metadata: ["sessions": "\(sessions)"])
    }
}
