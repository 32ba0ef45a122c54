/// A CopyData message the server sends during logical replication.
public enum ReplicationMessage: Hashable, Sendable {
    /// 'w': WAL data.
    case xLogData(XLogData)
    /// 'k': a keepalive.
    case keepalive(PrimaryKeepalive)

    /// Decodes one CopyData payload; anything but 'w' or 'k' throws.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> ReplicationMessage {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(DecodeError) in
                var reader = ByteReader(buffer, message: "replication message")
                let type = try reader.readUInt8()
                switch type {
                case UInt8(ascii: "w"):
                    reader.message = "XLogData"
                    return .xLogData(try XLogData.decode(from: &reader, frame: bytes))
                case UInt8(ascii: "k"):
                    reader.message = "Keepalive"
                    let keepalive = try PrimaryKeepalive.decode(from: &reader)
                    try reader.expectEnd()
                    return .keepalive(keepalive)
                default:
                    throw reader.failure("unknown message type \(hexByte(type))", at: 0)
                }
            }
        }.get()
    }
}
