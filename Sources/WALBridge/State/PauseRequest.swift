import PGClient
import PGOutput

/// What `walbridge pause` and `walbridge resume` ask of a slot's bridge.
public struct PauseRequest: Sendable, Equatable {
    /// Stop (at the next transaction boundary, or after `atLSN`) and stay stopped until resumed.
    var paused: Bool
    /// Stop right after the last transaction that commits at or before this position.
    var atLSN: LSN?

    /// No pause.
    static let none = PauseRequest(paused: false, atLSN: nil)
}
