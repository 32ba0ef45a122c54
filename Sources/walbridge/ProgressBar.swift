import Foundation
import Synchronization
import WALBridge

/// Draws one line per backfilled table on a terminal: a bar, rows done of the estimate, rate and time left.
final class ProgressBar: Sendable {
    private let lastDrawn = Mutex<ContinuousClock.Instant?>(nil)

    /// Redraws the current table's line (at most four times a second), and ends it when the table is done.
    func draw(_ report: BackfillReport) {
        let now = ContinuousClock.now
        let due = lastDrawn.withLock { last in
            guard report.done || last.map({ now - $0 >= .milliseconds(250) }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        let fraction =
            report.estimate > 0 ? min(Double(report.rows) / Double(report.estimate), 1) : (report.done ? 1 : 0)
        let bar = Self.bar(fraction)
        let eta = report.done ? "done" : report.etaSeconds.map { "ETA \($0) s" } ?? ""
        let line =
            "\r\u{1B}[K\(report.table) [\(bar)] \(report.rows)/\(report.estimate) rows, "
            + "\(Int(report.rowsPerSecond)) rows/s \(eta)"
        FileHandle.standardError.write(Data((line + (report.done ? "\n" : "")).utf8))
    }

    /// A 30-character bar, `#` for the done `fraction` (0…1) and `-` for the rest.
    static func bar(_ fraction: Double) -> String {
        let width = 30
        let filled = Int(min(max(fraction, 0), 1) * Double(width))
        return String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    }
}
