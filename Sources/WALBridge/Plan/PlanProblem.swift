import PGClient

/// A problem with the mapping found before anything runs: where in the file, and what to do.
public struct PlanProblem: Error, Hashable, Sendable, CustomStringConvertible {
    public var location: String
    public var message: String

    public var description: String { "\(location): \(message)" }
}
