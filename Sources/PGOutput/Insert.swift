/// Insert ('I'): a new row.
public struct Insert: Hashable, Sendable {
    /// The xid of the streamed (sub)transaction (protocol 2+, inside a stream block only).
    public var xid: UInt32?
    /// The OID of the Relation the row belongs to.
    public var relationID: UInt32
    /// The new row.
    public var new: [TupleValue]

    /// Creates an Insert message.
    public init(xid: UInt32?, relationID: UInt32, new: [TupleValue]) {
        self.xid = xid
        self.relationID = relationID
        self.new = new
    }

    /// Reads the body after the type byte and the optional xid.
    static func decode(from reader: inout ByteReader, xid: UInt32?) throws(DecodeError) -> Insert {
        let relationID = try reader.readUInt32()
        let marker = try reader.readUInt8()
        guard marker == UInt8(ascii: "N") else {
            throw reader.failure("expected new tuple 'N', got \(hexByte(marker))", at: reader.offset - 1)
        }
        return Insert(xid: xid, relationID: relationID, new: try TupleValue.decodeTuple(from: &reader))
    }
}
