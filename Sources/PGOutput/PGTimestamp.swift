/// Microseconds since 2000-01-01 00:00:00 UTC, as PostgreSQL sends timestamps.
public struct PGTimestamp: RawRepresentable, Hashable, Comparable, Sendable {
    /// Microseconds since 2000-01-01 00:00:00 UTC.
    public var rawValue: Int64

    /// Microseconds between 1970-01-01 and 2000-01-01.
    static let unixEpochOffset: Int64 = 946_684_800_000_000

    /// Wraps microseconds since 2000-01-01.
    public init(rawValue: Int64) {
        self.rawValue = rawValue
    }

    /// Microseconds since 1970-01-01, clamped to the Int64 range.
    public var unixMicroseconds: Int64 {
        let (sum, overflow) = rawValue.addingReportingOverflow(PGTimestamp.unixEpochOffset)
        return overflow ? Int64.max : sum
    }

    /// Converts microseconds since 1970-01-01, clamped to the Int64 range.
    public init(unixMicroseconds: Int64) {
        let (difference, overflow) = unixMicroseconds.subtractingReportingOverflow(PGTimestamp.unixEpochOffset)
        self.rawValue = overflow ? Int64.min : difference
    }

    /// Orders timestamps by time.
    public static func < (lhs: PGTimestamp, rhs: PGTimestamp) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}
