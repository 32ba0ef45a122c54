/// Whether a target entry inserts rows, or only updates the rows another entry (or the application) inserted.
public enum InsertMode: String, Sendable, CaseIterable {
    case always, never
}
