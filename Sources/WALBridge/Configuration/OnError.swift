/// What the bridge does when a change cannot be applied.
public enum OnError: String, Sendable, CaseIterable {
    case stop
    case deadLetter = "dead_letter"
}
