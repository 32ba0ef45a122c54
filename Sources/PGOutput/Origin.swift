/// Origin ('O'): the replication origin a transaction came from.
public struct Origin: Hashable, Sendable {
    /// The LSN of the commit on the origin server (0/0 when not known, e.g. in a stream block).
    public var commitLSN: LSN
    /// The origin's name.
    public var name: String

    /// Creates an Origin message.
    public init(commitLSN: LSN, name: String) {
        self.commitLSN = commitLSN
        self.name = name
    }

    /// Reads the body after the type byte.
    static func decode(from reader: inout ByteReader) throws(DecodeError) -> Origin {
        Origin(commitLSN: try reader.readLSN(), name: try reader.readCString())
    }
}
