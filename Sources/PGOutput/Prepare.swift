/// Prepare ('P') and Stream Prepare ('p', protocol 3): a transaction was prepared for two-phase commit.
public struct Prepare: Hashable, Sendable {
    /// Flags; currently always 0.
    public var flags: UInt8
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

    /// Creates a Prepare message.
    public init(flags: UInt8, prepareLSN: LSN, endLSN: LSN, prepareTime: PGTimestamp, xid: UInt32, gid: String) {
        self.flags = flags
        self.prepareLSN = prepareLSN
        self.endLSN = endLSN
        self.prepareTime = prepareTime
        self.xid = xid
        self.gid = gid
    }

    /// Reads the body after the type byte; Prepare and Stream Prepare share it.
    static func decode(from reader: inout ByteReader) throws(DecodeError) -> Prepare {
        Prepare(
            flags: try reader.readUInt8(), prepareLSN: try reader.readLSN(), endLSN: try reader.readLSN(),
            prepareTime: try reader.readTimestamp(), xid: try reader.readUInt32(), gid: try reader.readCString())
    }
}
