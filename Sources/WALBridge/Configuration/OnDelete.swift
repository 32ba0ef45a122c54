/// What a target does when its source row is deleted.
public enum OnDelete: String, Sendable, CaseIterable {
    case delete, ignore
}
