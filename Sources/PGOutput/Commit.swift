/// Commit ('C'): the end of a transaction that began with Begin.
public struct Commit: Hashable, Sendable {
    /// Flags; currently always 0.
    public var flags: UInt8
    /// The LSN of the commit record.
    public var commitLSN: LSN
    /// The LSN just past the commit record.
    public var endLSN: LSN
    /// When the transaction committed.
    public var commitTime: PGTimestamp

    /// Creates a Commit message.
    public init(flags: UInt8, commitLSN: LSN, endLSN: LSN, commitTime: PGTimestamp) {
        self.flags = flags
        self.commitLSN = commitLSN
        self.endLSN = endLSN
        self.commitTime = commitTime
    }

    /// Reads the body after the type byte.
    static func decode(from reader: inout ByteReader) throws(DecodeError) -> Commit {
        Commit(
            flags: try reader.readUInt8(), commitLSN: try reader.readLSN(), endLSN: try reader.readLSN(),
            commitTime: try reader.readTimestamp())
    }
}
