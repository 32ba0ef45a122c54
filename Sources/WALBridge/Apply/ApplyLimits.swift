import Logging
import PGClient
import PGOutput
import Synchronization

/// How large the applier lets its work grow.
public struct ApplyLimits: Sendable {
    /// Changes folded and staged at a time (also inside one large source transaction).
    public var sliceRows = 20_000
    /// Bytes of values folded and staged at a time: wide rows (TOASTed columns) make slices smaller.
    public var sliceBytes = 8 << 20
    /// Changes after which the open target transaction commits at the next source commit.
    public var batchRows = 20_000
    /// Time after which the open target transaction commits at the next source commit.
    public var batchTime: Duration = .milliseconds(50)

    /// The defaults.
    public init() {}
}
