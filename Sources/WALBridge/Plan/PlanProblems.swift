import PGClient

/// Several plan problems reported together.
public struct PlanProblems: Error, Sendable, CustomStringConvertible {
    public var problems: [PlanProblem]

    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}
