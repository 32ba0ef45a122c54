/// What a target does when its source table is truncated.
public enum OnTruncate: String, Sendable, CaseIterable {
    case truncate, ignore, stop
}
