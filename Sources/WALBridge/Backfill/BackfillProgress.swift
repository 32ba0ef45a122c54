import PGClient

/// One table's backfill as `walbridge.backfill` records it.
public struct BackfillProgress: Sendable, Equatable {
    public var table: String
    /// `pending`, `copying` or `done`.
    public var state: String
    public var rowsCopied: Int
    public var rowsEstimated: Int?
}
