/// Standby status update ('r'): the client tells the server how far it has written, flushed and applied WAL.
public struct StandbyStatusUpdate: Hashable, Sendable {
    /// WAL received and written by the client.
    public var written: LSN
    /// WAL durably stored by the client; the slot may release WAL before it.
    public var flushed: LSN
    /// WAL applied by the client.
    public var applied: LSN
    /// The client's clock.
    public var sendTime: PGTimestamp
    /// Whether the server should answer with a keepalive right away.
    public var replyRequested: Bool

    /// Creates a status update.
    public init(written: LSN, flushed: LSN, applied: LSN, sendTime: PGTimestamp, replyRequested: Bool = false) {
        self.written = written
        self.flushed = flushed
        self.applied = applied
        self.sendTime = sendTime
        self.replyRequested = replyRequested
    }

    /// The 34-byte CopyData payload: 'r', three LSNs, the clock, and the reply flag.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "r")]
        bytes.reserveCapacity(34)
        for value in [written.rawValue, flushed.rawValue, applied.rawValue, UInt64(bitPattern: sendTime.rawValue)] {
            withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        }
        bytes.append(replyRequested ? 1 : 0)
        return bytes
    }
}
