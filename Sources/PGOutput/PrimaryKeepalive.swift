/// Primary keepalive ('k'): the server's WAL end and clock, and whether it wants a status update now.
public struct PrimaryKeepalive: Hashable, Sendable {
    /// The server's current end of WAL.
    public var walEnd: LSN
    /// The server's clock when it sent the message.
    public var sendTime: PGTimestamp
    /// Whether the server asks for a standby status update right away.
    public var replyRequested: Bool

    /// Creates a keepalive message.
    public init(walEnd: LSN, sendTime: PGTimestamp, replyRequested: Bool) {
        self.walEnd = walEnd
        self.sendTime = sendTime
        self.replyRequested = replyRequested
    }

    /// Reads the body after the type byte.
    static func decode(from reader: inout ByteReader) throws(DecodeError) -> PrimaryKeepalive {
        PrimaryKeepalive(
            walEnd: try reader.readLSN(), sendTime: try reader.readTimestamp(),
            replyRequested: try reader.readUInt8() != 0)
    }
}
