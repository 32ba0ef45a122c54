/// Delete ('D'): a removed row, identified by its old key ('K') or old row ('O').
public struct Delete: Hashable, Sendable {
    /// The xid of the streamed (sub)transaction (protocol 2+, inside a stream block only).
    public var xid: UInt32?
    /// The OID of the Relation the row belonged to.
    public var relationID: UInt32
    /// The old key or row.
    public var old: OldTuple

    /// Creates a Delete message.
    public init(xid: UInt32?, relationID: UInt32, old: OldTuple) {
        self.xid = xid
        self.relationID = relationID
        self.old = old
    }

    /// Reads the body after the type byte and the optional xid.
    static func decode(from reader: inout ByteReader, xid: UInt32?) throws(DecodeError) -> Delete {
        let relationID = try reader.readUInt32()
        let marker = try reader.readUInt8()
        guard let kind = OldTuple.Kind(rawValue: marker) else {
            throw reader.failure("expected old tuple 'K' or 'O', got \(hexByte(marker))", at: reader.offset - 1)
        }
        return Delete(
            xid: xid, relationID: relationID,
            old: OldTuple(kind: kind, values: try TupleValue.decodeTuple(from: &reader)))
    }
}
