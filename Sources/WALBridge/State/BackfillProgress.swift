/// One table's backfill as `walbridge.backfill` records it.
public struct BackfillProgress: Sendable, Codable, Equatable {
    public var table: String
    public var state: BackfillPhase
    public var rowsCopied: Int
    public var rowsEstimated: Int?
}
