/// Message ('M'): a logical decoding message from pg_logical_emit_message.
public struct LogicalMessage: Hashable, Sendable {
    /// The xid of the streamed (sub)transaction (protocol 2+, inside a stream block only).
    public var xid: UInt32?
    /// Whether the message was emitted as part of a transaction (flag bit 1).
    public var transactional: Bool
    /// The LSN of the message.
    public var lsn: LSN
    /// The prefix given to pg_logical_emit_message.
    public var prefix: String
    /// The content given to pg_logical_emit_message.
    public var content: [UInt8]

    /// Creates a logical decoding message.
    public init(xid: UInt32?, transactional: Bool, lsn: LSN, prefix: String, content: [UInt8]) {
        self.xid = xid
        self.transactional = transactional
        self.lsn = lsn
        self.prefix = prefix
        self.content = content
    }

    /// Reads the body after the type byte and the optional xid.
    static func decode(from reader: inout ByteReader, xid: UInt32?) throws(DecodeError) -> LogicalMessage {
        let flags = try reader.readUInt8()
        let lsn = try reader.readLSN()
        let prefix = try reader.readCString()
        let content = try reader.readBytes(try reader.readLength())
        return LogicalMessage(xid: xid, transactional: flags & 1 != 0, lsn: lsn, prefix: prefix, content: content)
    }
}
