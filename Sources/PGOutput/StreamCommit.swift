/// Stream Commit ('c', protocol 2+): a streamed transaction committed.
public struct StreamCommit: Hashable, Sendable {
    /// The xid of the streamed transaction.
    public var xid: UInt32
    /// Flags; currently always 0.
    public var flags: UInt8
    /// The LSN of the commit record.
    public var commitLSN: LSN
    /// The LSN just past the commit record.
    public var endLSN: LSN
    /// When the transaction committed.
    public var commitTime: PGTimestamp

    /// Creates a Stream Commit message.
    public init(xid: UInt32, flags: UInt8, commitLSN: LSN, endLSN: LSN, commitTime: PGTimestamp) {
        self.xid = xid
        self.flags = flags
        self.commitLSN = commitLSN
        self.endLSN = endLSN
        self.commitTime = commitTime
    }

    /// Reads the body after the type byte.
    static func decode(from reader: inout ByteReader) throws(DecodeError) -> StreamCommit {
        StreamCommit(
            xid: try reader.readUInt32(), flags: try reader.readUInt8(), commitLSN: try reader.readLSN(),
            endLSN: try reader.readLSN(), commitTime: try reader.readTimestamp())
    }
}
