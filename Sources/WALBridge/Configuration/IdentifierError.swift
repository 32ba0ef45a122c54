import PGClient

/// Why a table or column name cannot be read, as the end of a sentence that starts with the name.
struct IdentifierError: Error, Sendable, Equatable {
    var reason: String

    init(_ reason: String) {
        self.reason = reason
    }
}
