/// What `verify` found.
public struct VerifyReport: Sendable {
    /// Where the comparison was taken: the source LSN the bridge had applied, or why there was no wait.
    public var point: String
    public var tables: [TableVerification]
    public var seconds: Double
    /// Keys compared per table with `--sample`; nil for a full comparison.
    public var sample: Int?

    public var mismatchCount: Int { tables.reduce(0) { $0 + $1.mismatches.count } }
}
