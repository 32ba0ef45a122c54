/// Type ('Y'): names a user-defined type used by a published column, sent before the Relation that uses it.
public struct TypeInfo: Hashable, Sendable {
    /// The xid of the streamed transaction (protocol 2+, inside a stream block only).
    public var xid: UInt32?
    /// The column type's OID.
    public var oid: UInt32
    /// The schema name; empty for pg_catalog. For a domain, PostgreSQL sends its base type's schema.
    public var namespace: String
    /// The type name. For a domain, PostgreSQL sends its base type's name (e.g. "int4").
    public var name: String

    /// Creates a Type message.
    public init(xid: UInt32?, oid: UInt32, namespace: String, name: String) {
        self.xid = xid
        self.oid = oid
        self.namespace = namespace
        self.name = name
    }

    /// Reads the body after the type byte and the optional xid.
    static func decode(from reader: inout ByteReader, xid: UInt32?) throws(DecodeError) -> TypeInfo {
        TypeInfo(
            xid: xid, oid: try reader.readUInt32(), namespace: try reader.readCString(), name: try reader.readCString())
    }
}
