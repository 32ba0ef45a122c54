/// XLogData ('w'): WAL data, here one pgoutput message, wrapped in a replication CopyData message.
public struct XLogData: Hashable, Sendable {
    /// The WAL position of the start of `data`.
    public var walStart: LSN
    /// The server's current end of WAL.
    public var walEnd: LSN
    /// The server's clock when it sent the message.
    public var sendTime: PGTimestamp
    /// The pgoutput message; a slice of the CopyData bytes, so its indices start at 25.
    public var data: ArraySlice<UInt8>

    /// Creates an XLogData message.
    public init(walStart: LSN, walEnd: LSN, sendTime: PGTimestamp, data: ArraySlice<UInt8>) {
        self.walStart = walStart
        self.walEnd = walEnd
        self.sendTime = sendTime
        self.data = data
    }

    /// Reads the header after the type byte; the rest of `frame` is the data.
    static func decode(from reader: inout ByteReader, frame: [UInt8]) throws(DecodeError) -> XLogData {
        let walStart = try reader.readLSN()
        let walEnd = try reader.readLSN()
        let sendTime = try reader.readTimestamp()
        return XLogData(walStart: walStart, walEnd: walEnd, sendTime: sendTime, data: frame[reader.offset...])
    }
}
