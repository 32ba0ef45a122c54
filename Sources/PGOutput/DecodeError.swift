/// A decoding failure: which message, where, and why.
public struct DecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The message kind being decoded, e.g. "Insert", "XLogData", "Relation".
    public var message: String
    /// The byte offset in the input where decoding failed.
    public var offset: Int
    /// What was wrong, e.g. "needs 4 bytes, 2 left".
    public var reason: String

    /// Creates an error for `message` at `offset`.
    public init(message: String, offset: Int, reason: String) {
        self.message = message
        self.offset = offset
        self.reason = reason
    }

    /// "pgoutput Insert: needs 4 bytes, 2 left at byte 17".
    public var description: String {
        "pgoutput \(message): \(reason) at byte \(offset)"
    }
}

/// Two uppercase hexadecimal digits with a 0x prefix, for error reasons: "0x7A".
func hexByte(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16, uppercase: true)
    return byte < 0x10 ? "0x0" + digits : "0x" + digits
}
