import PGClient
import PGOutput

extension PGError {
    /// Whether the target refused the data itself (a constraint, a value out of range, an expression
    /// that fails on this row), as opposed to a lock, a timeout or a lost connection that a retry mends.
    var isRejection: Bool {
        guard kind == .server, let state = sqlState else { return false }
        return ["21", "22", "23", "2B", "42", "44", "P0"].contains(String(state.prefix(2)))
    }
}
