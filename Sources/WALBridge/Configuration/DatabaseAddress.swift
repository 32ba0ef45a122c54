import PGClient

/// A database to connect to: a libpq connection string or `postgresql://` URI, parsed once; it prints without its
/// password.
public struct DatabaseAddress: Sendable, CustomStringConvertible {
    /// The parsed connection string; its raw text never goes to a log line or a message.
    let connectionString: ConnectionString

    /// Wraps a parsed connection string.
    init(_ connectionString: ConnectionString) {
        self.connectionString = connectionString
    }

    /// Parses `text` with libpq's own parser; a malformed one throws `BridgeError.malformedAddress`, without echoing
    /// it.
    public init(_ text: String) throws {
        do {
            connectionString = try ConnectionString(text)
        } catch let error as PGError {
            throw BridgeError.malformedAddress(error.message)
        }
    }

    /// The options as `key=value` pairs with the password masked, safe for logs.
    public var description: String { connectionString.description }

    /// `user@host:port/dbname`, the short form used in messages.
    public var summary: String { connectionString.summary }
}
