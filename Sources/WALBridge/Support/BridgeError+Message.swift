import PGClient

extension BridgeError {
    /// The one line to show for an error the library throws (its own, the plan's problems, or a database's); nil for
    /// others.
    public static func message(for error: any Error) -> String? {
        switch error {
        case let error as BridgeError: error.description
        case let error as PGError: error.description
        case let error as PlanProblems: error.description
        default: nil
        }
    }
}
