import CLibPQ

/// An error from PostgreSQL or libpq, with the server's SQLSTATE and fields when it sent them.
public struct PGError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, broadly.
    public enum Kind: Sendable, Equatable {
        /// The connection could not be opened.
        case connect
        /// The server rejected a statement.
        case server
        /// The connection broke or the server closed it.
        case connectionLost
        /// The server answered in a way this client did not expect.
        case protocolViolation
        /// The connection was already closed by this client.
        case closed
        /// A timeout set by this client ran out.
        case timeout
    }

    public var kind: Kind
    /// Five-character SQLSTATE code (e.g. `23505`), when the server sent one.
    public var sqlState: String?
    public var severity: String?
    public var message: String
    public var detail: String?
    public var hint: String?
    public var schema: String?
    public var table: String?
    public var column: String?
    public var constraint: String?
    /// Which statement of a pipeline failed, counting from 0.
    public var statementIndex: Int?

    /// Makes an error that carries only a kind and a message.
    public init(_ kind: Kind, _ message: String, sqlState: String? = nil) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
    }

    /// Reads every diagnostic field of a failed libpq result.
    init(result: OpaquePointer) {
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        let primary = field("M") ?? String(cString: PQresultErrorMessage(result)).trimmingTrailingNewlines()
        self.init(.server, primary, sqlState: field("C"))
        severity = field("V") ?? field("S")
        detail = field("D")
        hint = field("H")
        schema = field("s")
        table = field("t")
        column = field("c")
        constraint = field("n")
    }

    /// One line: severity, SQLSTATE, message, then detail and hint.
    public var description: String {
        var text = message
        if let sqlState { text = "\(text) (SQLSTATE \(sqlState))" }
        if let detail, !detail.isEmpty { text += "; \(detail)" }
        if let hint, !hint.isEmpty { text += "; hint: \(hint)" }
        return text
    }
}

extension String {
    /// The string without the newline libpq ends its messages with.
    func trimmingTrailingNewlines() -> String {
        var text = self
        while let last = text.last, last.isNewline || last == " " { text.removeLast() }
        return text
    }
}
