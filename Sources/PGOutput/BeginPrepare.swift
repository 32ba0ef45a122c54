/// Begin Prepare ('b', protocol 3): the start of a transaction prepared for two-phase commit.
public struct BeginPrepare: Hashable, Sendable {
    /// The LSN of the PREPARE TRANSACTION record.
    public var prepareLSN: LSN
    /// The LSN just past the PREPARE TRANSACTION record.
    public var endLSN: LSN
    /// When the transaction was prepared.
    public var prepareTime: PGTimestamp
    /// The transaction's xid.
    public var xid: UInt32
    /// The global identifier given to PREPARE TRANSACTION.
    public var gid: String

    /// Creates a Begin Prepare message.
    public init(prepareLSN: LSN, endLSN: LSN, prepareTime: PGTimestamp, xid: UInt32, gid: String) {
        self.prepareLSN = prepareLSN
        self.endLSN = endLSN
        self.prepareTime = prepareTime
        self.xid = xid
        self.gid = gid
    }

    /// Reads the body after the type byte.
    static func decode(from reader: inout ByteReader) throws(DecodeError) -> BeginPrepare {
        BeginPrepare(
            prepareLSN: try reader.readLSN(), endLSN: try reader.readLSN(), prepareTime: try reader.readTimestamp(),
            xid: try reader.readUInt32(), gid: try reader.readCString())
    }
}
