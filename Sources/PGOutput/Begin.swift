/// Begin ('B'): the start of a committed transaction.
public struct Begin: Hashable, Sendable {
    /// The LSN of the transaction's commit record.
    public var finalLSN: LSN
    /// When the transaction committed.
    public var commitTime: PGTimestamp
    /// The transaction's xid.
    public var xid: UInt32

    /// Creates a Begin message.
    public init(finalLSN: LSN, commitTime: PGTimestamp, xid: UInt32) {
        self.finalLSN = finalLSN
        self.commitTime = commitTime
        self.xid = xid
    }

    /// Reads the body after the type byte.
    static func decode(from reader: inout ByteReader) throws(DecodeError) -> Begin {
        Begin(finalLSN: try reader.readLSN(), commitTime: try reader.readTimestamp(), xid: try reader.readUInt32())
    }
}
