/// What a target does when its source row is deleted.
public enum OnDelete: String, Sendable, CaseIterable {
    case delete, ignore
}

/// What a target does when its source table is truncated.
public enum OnTruncate: String, Sendable, CaseIterable {
    case truncate, ignore, stop
}

/// What the bridge does when a change cannot be applied.
public enum OnError: String, Sendable, CaseIterable {
    case stop
    case deadLetter = "dead_letter"
}

/// Whether the bridge copies the existing rows before streaming changes.
public enum BackfillMode: String, Sendable, CaseIterable {
    case auto, skip
}
