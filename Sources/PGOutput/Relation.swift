/// A table's REPLICA IDENTITY setting (pg_class.relreplident).
public enum ReplicaIdentity: UInt8, Hashable, Sendable {
    /// The primary key ('d').
    case `default` = 0x64
    /// No old values ('n').
    case nothing = 0x6E
    /// All columns ('f').
    case full = 0x66
    /// The columns of a chosen unique index ('i').
    case index = 0x69
}

/// One column of a Relation message.
public struct RelationColumn: Hashable, Sendable {
    /// Whether the column is part of the replica identity.
    public var isKey: Bool
    /// The column name.
    public var name: String
    /// The column's type OID (a domain's own OID, not its base type's).
    public var typeOID: UInt32
    /// The type modifier (atttypmod), -1 when none.
    public var typeModifier: Int32

    /// Creates a column description.
    public init(isKey: Bool, name: String, typeOID: UInt32, typeModifier: Int32) {
        self.isKey = isKey
        self.name = name
        self.typeOID = typeOID
        self.typeModifier = typeModifier
    }
}

/// Relation ('R'): a table's schema, sent before the table's first change in a session and after it changes.
public struct Relation: Hashable, Sendable {
    /// The xid of the streamed transaction (protocol 2+, inside a stream block only).
    public var xid: UInt32?
    /// The relation OID, which change messages refer to.
    public var id: UInt32
    /// The schema name; empty for pg_catalog.
    public var namespace: String
    /// The table name.
    public var name: String
    /// The table's replica identity setting.
    public var replicaIdentity: ReplicaIdentity
    /// The published columns in order.
    public var columns: [RelationColumn]

    /// Creates a Relation message.
    public init(
        xid: UInt32?, id: UInt32, namespace: String, name: String, replicaIdentity: ReplicaIdentity,
        columns: [RelationColumn]
    ) {
        self.xid = xid
        self.id = id
        self.namespace = namespace
        self.name = name
        self.replicaIdentity = replicaIdentity
        self.columns = columns
    }

    /// The fewest bytes a column takes: flags, name terminator, type OID, type modifier.
    private static let minimumColumnSize = 10

    /// Reads the body after the type byte and the optional xid.
    static func decode(from reader: inout ByteReader, xid: UInt32?) throws(DecodeError) -> Relation {
        let id = try reader.readUInt32()
        let namespace = try reader.readCString()
        let name = try reader.readCString()
        let identity = try reader.readUInt8()
        guard let replicaIdentity = ReplicaIdentity(rawValue: identity) else {
            throw reader.failure("unknown replica identity \(hexByte(identity))", at: reader.offset - 1)
        }
        let countOffset = reader.offset
        let count = Int(try reader.readUInt16())
        guard count <= reader.remaining / minimumColumnSize else {
            throw reader.failure("\(count) columns but only \(reader.remaining) bytes left", at: countOffset)
        }
        var columns: [RelationColumn] = []
        columns.reserveCapacity(count)
        for _ in 0..<count {
            let flags = try reader.readUInt8()
            columns.append(
                RelationColumn(
                    isKey: flags & 1 != 0, name: try reader.readCString(), typeOID: try reader.readUInt32(),
                    typeModifier: try reader.readInt32()))
        }
        return Relation(
            xid: xid, id: id, namespace: namespace, name: name, replicaIdentity: replicaIdentity, columns: columns)
    }
}
