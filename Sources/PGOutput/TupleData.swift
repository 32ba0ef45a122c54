/// One value in a tuple.
public enum TupleValue: Hashable, Sendable {
    /// SQL NULL ('n').
    case null
    /// A TOASTed value that did not change and was not sent ('u').
    case unchangedToast
    /// The value in the type's text format ('t'); usually a slice of the message, so its indices need not start at 0.
    case text(ArraySlice<UInt8>)
    /// The value in the type's binary (send/receive) format ('b'); usually a slice of the message.
    case binary(ArraySlice<UInt8>)

    /// Reads TupleData: an Int16 column count, then each column's kind byte and value.
    static func decodeTuple(from reader: inout ByteReader) throws(DecodeError) -> [TupleValue] {
        let countOffset = reader.offset
        let count = Int(try reader.readUInt16())
        // Every column takes at least its kind byte.
        guard count <= reader.remaining else {
            throw reader.failure("\(count) columns but only \(reader.remaining) bytes left", at: countOffset)
        }
        var values: [TupleValue] = []
        values.reserveCapacity(count)
        for _ in 0..<count {
            let kind = try reader.readUInt8()
            switch kind {
            case UInt8(ascii: "t"): values.append(.text(try reader.readSlice(try reader.readLength())))
            case UInt8(ascii: "n"): values.append(.null)
            case UInt8(ascii: "u"): values.append(.unchangedToast)
            case UInt8(ascii: "b"): values.append(.binary(try reader.readSlice(try reader.readLength())))
            default: throw reader.failure("unknown tuple kind \(hexByte(kind))", at: reader.offset - 1)
            }
        }
        return values
    }
}

/// The old row of an Update or Delete: its replica identity key columns ('K') or all columns ('O').
public struct OldTuple: Hashable, Sendable {
    /// Which columns an old tuple carries.
    public enum Kind: UInt8, Sendable {
        /// Only the replica identity columns; the others are NULL.
        case key = 0x4B
        /// Every column (REPLICA IDENTITY FULL).
        case full = 0x4F
    }

    /// Whether this is a key or a full old tuple.
    public var kind: Kind
    /// The column values.
    public var values: [TupleValue]

    /// Creates an old tuple.
    public init(kind: Kind, values: [TupleValue]) {
        self.kind = kind
        self.values = values
    }
}
