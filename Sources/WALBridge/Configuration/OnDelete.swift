/// What a target does when its source row is deleted: delete the target row, keep it, or (with `insert: never`) set
/// this entry's non-key columns to NULL.
public enum OnDelete: String, Sendable, CaseIterable {
    case delete, ignore, clear
}
