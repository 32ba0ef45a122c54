import Logging
import PGClient

/// What `walbridge check` found: the plan as SQL, and every problem with what to do.
public struct CheckReport: Sendable {
    /// The statements each change kind will run, per target, for people to read.
    public var plan: [String] = []
    /// The round trip of `reverse:` over `tables:` (`RoundTrip`), for people to read; empty without `reverse:`.
    public var roundTrip: [String] = []
    /// Facts worth knowing that are not problems (a slot that will be created, say).
    public var notes: [String] = []
    /// Problems, each one line naming the config entry and what to do.
    public var problems: [String] = []
}
