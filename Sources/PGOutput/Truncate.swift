/// Truncate ('T'): one TRUNCATE statement over one or more published tables.
public struct Truncate: Hashable, Sendable {
    /// The xid of the streamed (sub)transaction (protocol 2+, inside a stream block only).
    public var xid: UInt32?
    /// Whether TRUNCATE ... CASCADE was given (option bit 1).
    public var cascade: Bool
    /// Whether TRUNCATE ... RESTART IDENTITY was given (option bit 2).
    public var restartIdentity: Bool
    /// The OIDs of the truncated Relations.
    public var relationIDs: [UInt32]

    /// Creates a Truncate message.
    public init(xid: UInt32?, cascade: Bool, restartIdentity: Bool, relationIDs: [UInt32]) {
        self.xid = xid
        self.cascade = cascade
        self.restartIdentity = restartIdentity
        self.relationIDs = relationIDs
    }

    /// Reads the body after the type byte and the optional xid.
    static func decode(from reader: inout ByteReader, xid: UInt32?) throws(DecodeError) -> Truncate {
        let countOffset = reader.offset
        let count = try reader.readInt32()
        let options = try reader.readUInt8()
        guard count >= 0 else {
            throw reader.failure("negative relation count \(count)", at: countOffset)
        }
        guard Int(count) <= reader.remaining / 4 else {
            throw reader.failure("\(count) relations but only \(reader.remaining) bytes left", at: countOffset)
        }
        var relationIDs: [UInt32] = []
        relationIDs.reserveCapacity(Int(count))
        for _ in 0..<count {
            relationIDs.append(try reader.readUInt32())
        }
        return Truncate(
            xid: xid, cascade: options & 1 != 0, restartIdentity: options & 2 != 0, relationIDs: relationIDs)
    }
}
