import PGOutput

/// How the next session streams and applies, as the supervisor sets it from the outcomes of earlier sessions.
struct SessionMode: Sendable, Equatable {
    /// Replay in order, one change at a time, until a commit past this (the target refused a batch).
    var orderedThrough: LSN?
    /// Whether large transactions may be applied while they stream in (off for the process after a fallback).
    var streaming = true
}
