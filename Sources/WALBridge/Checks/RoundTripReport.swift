/// What `RoundTrip.prove` found: a line per legacy table, notes, and every problem (none means the pair passes).
public struct RoundTripReport: Sendable {
    /// Per legacy table: how many rows were sampled and how many columns came back.
    public var summary: [String] = []
    /// Facts worth knowing that are not problems (sampled rows no new table holds, say).
    public var notes: [String] = []
    /// Each structural gap, reverse expression that does not compile, and column that does not round-trip.
    public var problems: [String] = []
}
