import PGClient

/// Locks several tables at once without ever holding one while waiting long for another: each wait lasts at most
/// 50 ms, and a lock not granted by then releases them all and tries again, until the timeout. An application
/// transaction writing the tables in another order then waits for a moment instead of deadlocking (the deadlock
/// detector only looks after `deadlock_timeout`, 1 s by default), and gets the fence's refusal, not 40P01.
enum TableLocks {
    /// How long one try waits for each lock.
    static let attempt = Duration.milliseconds(50)

    /// Opens a transaction on `database` that holds `mode` locks on `tables` (quoted names); throws the lock timeout
    /// (SQLSTATE 55P03) when they could not all be had within `timeout`. Nothing is held after a throw.
    static func acquire(_ tables: [String], mode: String, timeout: Duration, on database: PGConnection) async throws {
        let deadline = ContinuousClock.now + timeout
        let lock = tables.isEmpty ? "" : "; LOCK TABLE \(tables.joined(separator: ", ")) IN \(mode) MODE"
        while true {
            do {
                try await database.simpleQuery("BEGIN; SET LOCAL lock_timeout = '\(attempt.milliseconds)ms'\(lock)")
                return
            } catch let error as PGError where error.sqlState == lockNotAvailable && ContinuousClock.now < deadline {
                _ = try? await database.simpleQuery("ROLLBACK")
                try await Task.sleep(for: .milliseconds(Int.random(in: 5...30)))
            } catch {
                _ = try? await database.simpleQuery("ROLLBACK")
                throw error
            }
        }
    }

    /// SQLSTATE lock_not_available, which a lock timeout raises.
    static let lockNotAvailable = "55P03"
}
