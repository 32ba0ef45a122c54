/// Whether the bridge copies the existing rows before streaming changes.
public enum BackfillMode: String, Sendable, CaseIterable {
    case auto, skip
}
