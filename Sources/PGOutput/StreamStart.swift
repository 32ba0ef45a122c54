/// Stream Start ('S', protocol 2+): opens a block of changes of an in-progress transaction; its changes carry xids.
public struct StreamStart: Hashable, Sendable {
    /// The xid of the streamed top-level transaction.
    public var xid: UInt32
    /// Whether this is the transaction's first stream block.
    public var firstSegment: Bool

    /// Creates a Stream Start message.
    public init(xid: UInt32, firstSegment: Bool) {
        self.xid = xid
        self.firstSegment = firstSegment
    }

    /// Reads the body after the type byte.
    static func decode(from reader: inout ByteReader) throws(DecodeError) -> StreamStart {
        StreamStart(xid: try reader.readUInt32(), firstSegment: try reader.readUInt8() != 0)
    }
}
