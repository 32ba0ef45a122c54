/// Decodes a stream of pgoutput messages; tracks Stream Start/Stop so it knows when messages carry an xid prefix.
public struct PGOutputDecoder: Sendable {
    /// Whether a Stream Start was decoded and not yet closed by a Stream Stop (their order is not validated).
    public private(set) var inStreamBlock = false

    /// Creates a decoder outside any stream block.
    public init() {}

    /// Decodes one whole message; a failure leaves the stream-block state unchanged. Tuple values are copied.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> PGOutputMessage {
        try decode(ByteReader(bytes, message: "message"))
    }

    /// Decodes the message `reader` starts at.
    private mutating func decode(_ reader: ByteReader) throws(DecodeError) -> PGOutputMessage {
        var reader = reader
        let type = try reader.readUInt8()
        let message: PGOutputMessage
        switch type {
        case UInt8(ascii: "I"):
            reader.message = "Insert"
            let xid = try streamedXID(&reader)
            message = .insert(try Insert.decode(from: &reader, xid: xid))
        case UInt8(ascii: "U"):
            reader.message = "Update"
            let xid = try streamedXID(&reader)
            message = .update(try Update.decode(from: &reader, xid: xid))
        case UInt8(ascii: "D"):
            reader.message = "Delete"
            let xid = try streamedXID(&reader)
            message = .delete(try Delete.decode(from: &reader, xid: xid))
        case UInt8(ascii: "B"):
            reader.message = "Begin"
            message = .begin(try Begin.decode(from: &reader))
        case UInt8(ascii: "C"):
            reader.message = "Commit"
            message = .commit(try Commit.decode(from: &reader))
        case UInt8(ascii: "O"):
            reader.message = "Origin"
            message = .origin(try Origin.decode(from: &reader))
        case UInt8(ascii: "R"):
            reader.message = "Relation"
            let xid = try streamedXID(&reader)
            message = .relation(try Relation.decode(from: &reader, xid: xid))
        case UInt8(ascii: "Y"):
            reader.message = "Type"
            let xid = try streamedXID(&reader)
            message = .type(try TypeInfo.decode(from: &reader, xid: xid))
        case UInt8(ascii: "T"):
            reader.message = "Truncate"
            let xid = try streamedXID(&reader)
            message = .truncate(try Truncate.decode(from: &reader, xid: xid))
        case UInt8(ascii: "M"):
            reader.message = "Message"
            let xid = try streamedXID(&reader)
            message = .message(try LogicalMessage.decode(from: &reader, xid: xid))
        case UInt8(ascii: "S"):
            reader.message = "Stream Start"
            message = .streamStart(try StreamStart.decode(from: &reader))
        case UInt8(ascii: "E"):
            reader.message = "Stream Stop"
            message = .streamStop
        case UInt8(ascii: "c"):
            reader.message = "Stream Commit"
            message = .streamCommit(try StreamCommit.decode(from: &reader))
        case UInt8(ascii: "A"):
            reader.message = "Stream Abort"
            message = .streamAbort(try StreamAbort.decode(from: &reader))
        case UInt8(ascii: "b"):
            reader.message = "Begin Prepare"
            message = .beginPrepare(try BeginPrepare.decode(from: &reader))
        case UInt8(ascii: "P"):
            reader.message = "Prepare"
            message = .prepare(try Prepare.decode(from: &reader))
        case UInt8(ascii: "K"):
            reader.message = "Commit Prepared"
            message = .commitPrepared(try CommitPrepared.decode(from: &reader))
        case UInt8(ascii: "r"):
            reader.message = "Rollback Prepared"
            message = .rollbackPrepared(try RollbackPrepared.decode(from: &reader))
        case UInt8(ascii: "p"):
            reader.message = "Stream Prepare"
            message = .streamPrepare(try Prepare.decode(from: &reader))
        default:
            throw reader.failure("unknown message type \(hexByte(type))", at: 0)
        }
        try reader.expectEnd()
        if type == UInt8(ascii: "S") {
            inStreamBlock = true
        } else if type == UInt8(ascii: "E") {
            inStreamBlock = false
        }
        return message
    }

    /// Decodes one whole message; tuple values are slices of `bytes`.
    public mutating func decode(_ bytes: [UInt8]) throws(DecodeError) -> PGOutputMessage {
        try decode(bytes[...])
    }

    /// Decodes one whole message; tuple values are slices of `bytes`, and error offsets count from its first byte.
    public mutating func decode(_ bytes: ArraySlice<UInt8>) throws(DecodeError) -> PGOutputMessage {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(DecodeError) in try decode(ByteReader(buffer, message: "message", storage: bytes)) }
        }.get()
    }

    /// Reads the xid that prefixes changes inside a stream block; nil outside one.
    private func streamedXID(_ reader: inout ByteReader) throws(DecodeError) -> UInt32? {
        inStreamBlock ? try reader.readUInt32() : nil
    }
}
