/// Stream Abort ('A', protocol 2+): a streamed transaction, or one of its subtransactions, rolled back.
public struct StreamAbort: Hashable, Sendable {
    /// The xid of the streamed top-level transaction.
    public var xid: UInt32
    /// The xid of the aborted subtransaction; equal to `xid` when the whole transaction aborted.
    public var subxid: UInt32

    /// Creates a Stream Abort message.
    public init(xid: UInt32, subxid: UInt32) {
        self.xid = xid
        self.subxid = subxid
    }

    /// Reads the body after the type byte.
    static func decode(from reader: inout ByteReader) throws(DecodeError) -> StreamAbort {
        StreamAbort(xid: try reader.readUInt32(), subxid: try reader.readUInt32())
    }
}
