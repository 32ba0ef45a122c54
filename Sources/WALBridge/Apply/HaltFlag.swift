import Logging
import PGClient
import PGOutput
import Synchronization

/// Asks the applier to stop at the next source transaction boundary.
final class HaltFlag: Sendable {
    private let value = Atomic<Bool>(false)

    /// Whether a stop was asked for.
    var isSet: Bool { value.load(ordering: .acquiring) }

    /// Asks for the stop.
    func set() { value.store(true, ordering: .releasing) }
}
