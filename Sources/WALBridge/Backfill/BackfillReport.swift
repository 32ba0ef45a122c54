import Foundation
import Logging
import PGClient
import PGOutput

/// One table's backfill progress, for a display.
public struct BackfillReport: Sendable {
    public var table: TableName
    /// Rows placed in the stream so far in this copy.
    public var rows: Int
    /// `pg_class.reltuples` when the copy started.
    public var estimate: Int
    public var rowsPerSecond: Double
    /// Seconds left at the current rate, when the estimate allows a guess.
    public var etaSeconds: Int?
    public var done: Bool
}
