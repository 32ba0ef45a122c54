import PGOutput

/// A position in the source's write-ahead log, in PostgreSQL's text form "0/1A2B3C4".
public struct WALPosition: Hashable, Comparable, Sendable, CustomStringConvertible, LosslessStringConvertible {
    /// The position as the stream decoder knows it.
    let lsn: LSN

    /// Wraps a decoder position.
    init(_ lsn: LSN) {
        self.lsn = lsn
    }

    /// Parses PostgreSQL's text form, two hexadecimal halves of 1 to 8 digits ("16/B374D848"); nil for anything else.
    public init?(_ description: String) {
        guard let lsn = LSN(description) else { return nil }
        self.lsn = lsn
    }

    /// PostgreSQL's text form in uppercase hexadecimal: "16/B374D848".
    public var description: String { lsn.description }

    /// Orders positions along the log.
    public static func < (lhs: WALPosition, rhs: WALPosition) -> Bool {
        lhs.lsn < rhs.lsn
    }
}
