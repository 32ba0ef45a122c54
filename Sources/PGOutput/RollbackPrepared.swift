/// Rollback Prepared ('r', protocol 3): a prepared transaction was rolled back.
public struct RollbackPrepared: Hashable, Sendable {
    /// Flags; currently always 0.
    public var flags: UInt8
    /// The LSN just past the PREPARE TRANSACTION record.
    public var prepareEndLSN: LSN
    /// The LSN just past the ROLLBACK PREPARED record.
    public var rollbackEndLSN: LSN
    /// When the transaction was prepared.
    public var prepareTime: PGTimestamp
    /// When the transaction was rolled back.
    public var rollbackTime: PGTimestamp
    /// The transaction's xid.
    public var xid: UInt32
    /// The global identifier of the prepared transaction.
    public var gid: String

    /// Creates a Rollback Prepared message.
    public init(
        flags: UInt8, prepareEndLSN: LSN, rollbackEndLSN: LSN, prepareTime: PGTimestamp, rollbackTime: PGTimestamp,
        xid: UInt32, gid: String
    ) {
        self.flags = flags
        self.prepareEndLSN = prepareEndLSN
        self.rollbackEndLSN = rollbackEndLSN
        self.prepareTime = prepareTime
        self.rollbackTime = rollbackTime
        self.xid = xid
        self.gid = gid
    }

    /// Reads the body after the type byte.
    static func decode(from reader: inout ByteReader) throws(DecodeError) -> RollbackPrepared {
        RollbackPrepared(
            flags: try reader.readUInt8(), prepareEndLSN: try reader.readLSN(), rollbackEndLSN: try reader.readLSN(),
            prepareTime: try reader.readTimestamp(), rollbackTime: try reader.readTimestamp(),
            xid: try reader.readUInt32(), gid: try reader.readCString())
    }
}
