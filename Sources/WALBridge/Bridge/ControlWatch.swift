import Foundation
import Logging
import PGClient
import PGOutput
import Synchronization

/// The pause last read from `walbridge.control`, shared with the stream loop.
final class ControlWatch: Sendable {
    private let value: Mutex<PauseRequest>
    /// Set by the stream loop when a cut-over's nudge went by; the poller then reads the control row at once.
    private let wake = Mutex(false)

    init(_ request: PauseRequest) {
        value = Mutex(request)
    }

    /// The latest request.
    var current: PauseRequest {
        value.withLock { $0 }
    }

    /// Asks the poller to read the control row now rather than at its next interval.
    func wakePoller() {
        wake.withLock { $0 = true }
    }

    /// Whether a read was asked since the last call.
    func takeWake() -> Bool {
        wake.withLock { asked in
            defer { asked = false }
            return asked
        }
    }

    /// Replaces the request.
    func set(_ request: PauseRequest) {
        value.withLock { $0 = request }
    }
}
