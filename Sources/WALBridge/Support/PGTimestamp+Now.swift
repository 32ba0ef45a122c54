import Foundation
import PGOutput

extension PGTimestamp {
    /// The current wall-clock time.
    static var now: PGTimestamp {
        PGTimestamp(unixMicroseconds: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))
    }
}
