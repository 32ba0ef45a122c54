import PGClient
import PGOutput

/// One table's backfill progress.
public struct BackfillStatus: Sendable, Codable, Equatable {
    public var table: String
    public var state: String
    public var rowsCopied: Int
    public var rowsEstimated: Int?
}
