import Foundation
import Logging
import PGClient
import PGOutput

/// What retrying one dead letter did.
public struct RetryOutcome: Sendable, Equatable {
    public var id: Int
    /// nil when the row now applies; otherwise why it still does not.
    public var error: String?
}
