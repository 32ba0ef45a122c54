import PGClient

/// `--fence lock`: a session holding an EXCLUSIVE lock on the legacy tables (reads go on, writes queue), which commits
/// the trigger fence before it lets them go, so that the queued writes are refused rather than lost.
enum LockFence {
    /// Locks every source table of `configuration` together (`TableLocks`), waiting at most `timeout` for their
    /// writers.
    static func acquire(_ configuration: Configuration, timeout: Duration) async throws -> PGConnection {
        let session = try await SourceCheck.connect(configuration.source)
        do {
            try await TableLocks.acquire(
                configuration.tables.map(\.source.quoted), mode: "EXCLUSIVE", timeout: timeout, on: session)
            return session
        } catch {
            await session.close()
            throw error
        }
    }

    /// Commits `fence` in the lock's transaction, which ends the lock.
    static func commit(_ session: PGConnection, installing fence: WriteFence) async throws {
        defer { Task { await session.close() } }
        try await session.simpleQuery(fence.install + "COMMIT")
    }

    /// Ends the lock without fencing.
    static func release(_ session: PGConnection) async {
        _ = try? await session.simpleQuery("ROLLBACK")
        await session.close()
    }
}
