/// Commit Prepared ('K', protocol 3): a prepared transaction was committed.
public struct CommitPrepared: Hashable, Sendable {
    /// Flags; currently always 0.
    public var flags: UInt8
    /// The LSN of the COMMIT PREPARED record.
    public var commitLSN: LSN
    /// The LSN just past the COMMIT PREPARED record.
    public var endLSN: LSN
    /// When the transaction committed.
    public var commitTime: PGTimestamp
    /// The transaction's xid.
    public var xid: UInt32
    /// The global identifier of the prepared transaction.
    public var gid: String

    /// Creates a Commit Prepared message.
    public init(flags: UInt8, commitLSN: LSN, endLSN: LSN, commitTime: PGTimestamp, xid: UInt32, gid: String) {
        self.flags = flags
        self.commitLSN = commitLSN
        self.endLSN = endLSN
        self.commitTime = commitTime
        self.xid = xid
        self.gid = gid
    }

    /// Reads the body after the type byte.
    static func decode(from reader: inout ByteReader) throws(DecodeError) -> CommitPrepared {
        CommitPrepared(
            flags: try reader.readUInt8(), commitLSN: try reader.readLSN(), endLSN: try reader.readLSN(),
            commitTime: try reader.readTimestamp(), xid: try reader.readUInt32(), gid: try reader.readCString())
    }
}
