import Foundation
import Logging
import PGClient
import PGOutput
import Synchronization

/// The pause last read from `walbridge.control`, shared with the stream loop.
final class ControlWatch: Sendable {
    private let value: Mutex<PauseRequest>

    init(_ request: PauseRequest) {
        value = Mutex(request)
    }

    /// The latest request.
    var current: PauseRequest {
        value.withLock { $0 }
    }

    /// Replaces the request.
    func set(_ request: PauseRequest) {
        value.withLock { $0 = request }
    }
}
