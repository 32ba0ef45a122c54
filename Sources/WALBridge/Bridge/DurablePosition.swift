import Foundation
import Logging
import PGClient
import PGOutput
import Synchronization

/// A WAL position shared between tasks: the flush position the applier has made durable, the source's WAL end.
final class DurablePosition: Sendable {
    private let value: Atomic<UInt64>

    /// Starts at `lsn`.
    init(_ lsn: LSN) {
        value = Atomic(lsn.rawValue)
    }

    /// The current position.
    func load() -> LSN {
        LSN(value.load(ordering: .acquiring))
    }

    /// Moves the position.
    func store(_ lsn: LSN) {
        value.store(lsn.rawValue, ordering: .releasing)
    }
}
