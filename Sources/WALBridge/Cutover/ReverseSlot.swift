import Logging

/// The reverse direction's slot and publication on the new database: made before a cut-over fences anything, removed
/// when a rollback or an abort ends it (a paused slot would keep the new database's WAL for ever).
enum ReverseSlot {
    /// Pauses the reverse direction (it starts at the switch) and creates its publication and slot.
    static func prepare(_ reverse: Direction, logger: Logger) async throws {
        try await Control.pause(slot: reverse.slot, at: nil, on: reverse.target)
        _ = try await SlotAdmin.create(reverse.configuration, logger: logger)
    }

    /// Pauses the reverse direction, drops its slot and publication, and forgets its checkpoint.
    static func drop(_ reverse: Direction, logger: Logger) async throws {
        try await Control.pause(slot: reverse.slot, at: nil, on: reverse.target)
        _ = try await SlotAdmin.drop(reverse.configuration, force: true, logger: logger)
        try await ProgressState.forget(slot: reverse.slot, on: reverse.target)
    }
}
