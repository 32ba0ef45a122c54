/// Update ('U'): a changed row, with its old key ('K') or old row ('O') when the replica identity calls for it.
public struct Update: Hashable, Sendable {
    /// The xid of the streamed (sub)transaction (protocol 2+, inside a stream block only).
    public var xid: UInt32?
    /// The OID of the Relation the row belongs to.
    public var relationID: UInt32
    /// The old key or row; nil when the key did not change and the identity is not FULL.
    public var old: OldTuple?
    /// The new row; unchanged TOASTed columns are `.unchangedToast`.
    public var new: [TupleValue]

    /// Creates an Update message.
    public init(xid: UInt32?, relationID: UInt32, old: OldTuple?, new: [TupleValue]) {
        self.xid = xid
        self.relationID = relationID
        self.old = old
        self.new = new
    }

    /// Reads the body after the type byte and the optional xid.
    static func decode(from reader: inout ByteReader, xid: UInt32?) throws(DecodeError) -> Update {
        let relationID = try reader.readUInt32()
        var marker = try reader.readUInt8()
        var old: OldTuple?
        if let kind = OldTuple.Kind(rawValue: marker) {
            old = OldTuple(kind: kind, values: try TupleValue.decodeTuple(from: &reader))
            marker = try reader.readUInt8()
        }
        guard marker == UInt8(ascii: "N") else {
            throw reader.failure("expected tuple 'K', 'O' or 'N', got \(hexByte(marker))", at: reader.offset - 1)
        }
        return Update(xid: xid, relationID: relationID, old: old, new: try TupleValue.decodeTuple(from: &reader))
    }
}
