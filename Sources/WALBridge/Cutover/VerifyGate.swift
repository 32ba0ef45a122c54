/// How much the cut-over verifies before it fences anything (`--verify`).
public enum VerifyGate: Sendable, Equatable {
    /// N random keys per table from each side.
    case sample(Int)
    case full
    case skip

    /// The verifier of `configuration` this gate asks for; nil for `skip`.
    func verifier(_ configuration: Configuration) -> Verifier? {
        var verifier = Verifier(configuration: configuration)
        switch self {
        case .skip: return nil
        case .full: return verifier
        case .sample(let count):
            verifier.sample = count
            return verifier
        }
    }

    /// Parses `sample:N`, `full` or `skip`.
    public init?(_ text: String) {
        switch text {
        case "full": self = .full
        case "skip": self = .skip
        default:
            guard text.hasPrefix("sample:"), let count = Int(text.dropFirst(7)), count > 0 else { return nil }
            self = .sample(count)
        }
    }
}
