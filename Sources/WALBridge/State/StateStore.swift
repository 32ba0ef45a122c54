import PGClient
import PGOutput

/// A slot's state in the target, as the tools and applications beside a bridge read and change it.
public struct StateStore: Sendable {
    let target: PGConnection
    /// The slot whose bridge this is.
    public let slot: String

    /// The state of `slot` over an open target session.
    public init(_ session: SQLSession, slot: String) {
        self.init(session.connection, slot: slot)
    }

    /// The state of `slot` over an open target connection.
    init(_ target: PGConnection, slot: String) {
        self.target = target
        self.slot = slot
    }

    /// Runs `body` against `configuration`'s target and slot, creating the state schema if needed.
    public static func withTarget<R: Sendable>(
        _ configuration: Configuration, _ body: (StateStore) async throws -> R
    ) async throws -> R {
        try await SourceCheck.connect(configuration.target, role: "target").closing { target in
            try await StateSchema.ensure(on: target)
            return try await body(StateStore(target, slot: configuration.slot))
        }
    }

    /// Asks the bridge to pause at its next source transaction boundary, or right after `lsn` (see `Control.pause`).
    public func pause(at lsn: WALPosition?) async throws {
        try await Control.pause(slot: slot, at: lsn?.lsn, on: target)
    }

    /// Lets the bridge go on from where it paused.
    public func resume() async throws {
        try await Control.resume(slot: slot, on: target)
    }

    /// The end of the last source transaction the bridge applied, nil before the first.
    public func appliedLSN() async throws -> WALPosition? {
        try await ProgressState.read(slot: slot, on: target).map { WALPosition($0.appliedLSN) }
    }

    /// Waits up to `seconds` until the bridge has applied the source up to `lsn`; false when it has not by then.
    public func waitFor(_ lsn: WALPosition, seconds: Int) async throws -> Bool {
        try await ProgressState.waitFor(lsn: lsn.description, seconds: seconds, slot: slot, on: target)
    }

    /// The backfill of every table of the slot.
    public func backfill() async throws -> [BackfillProgress] {
        try await BackfillState.progress(slot: slot, on: target)
    }
}
