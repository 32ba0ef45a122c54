// Write-unavailable window of a cut-over and a rollback, as the application sees it (bench/window.sh runs it).
//
//   window-bench --walbridge BIN --config FILE --legacy CONNINFO --new CONNINFO --slot SLOT
//                [--rate 500] [--sessions 8] [--rounds 3]
//
// An application of SESSIONS sessions writes RATE transactions per second in all, each adding a dollar to a random
// product: `UPDATE products SET price = price + 100` in the legacy schema, `UPDATE products_v2 SET price = price + 1`
// in the new one. Its feature switch is the switch record: a watcher reads walbridge.switch every 5 ms and sends the
// writes to the new schema once it says `switched`, to the legacy one once a rollback's step says `legacy open`. A
// refused write (SQLSTATE 25006, the fence) is counted and not retried. The window of one command is from the start of
// the first write it made the application lose (refused, or queued behind the lock and then refused) to the end of the
// first write the other schema accepted.
//
// Baseline, in the same run: the manual cut-over the README described before `walbridge cutover` existed. The
// application stops writing; the harness takes pg_current_wal_lsn(), runs `walbridge pause --at-lsn` and polls
// walbridge.control every 10 ms until the bridge reports paused there, then the application's first write to the new
// schema (an insert into the unmapped table window_probe) ends the window; then `walbridge resume`.
//
// At the end every accepted dollar must be in the legacy table (the reverse direction carried the new schema's) and
// verify must pass; it prints MATCH or MISMATCH.
import Foundation
import PGClient
import Synchronization

/// Prints a message to standard error and exits with status 1.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("window-bench: \(message)\n".utf8))
    exit(1)
}

/// The command-line options.
struct Options {
    var walbridge = ""
    var config = ""
    var legacy = ""
    var new = ""
    var slot = ""
    var rate = 500.0
    var sessions = 8
    var rounds = 3

    init(_ arguments: [String]) {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { fail("\(flag) needs a value") }
            switch flag {
            case "--walbridge": walbridge = value
            case "--config": config = value
            case "--legacy": legacy = value
            case "--new": new = value
            case "--slot": slot = value
            case "--rate": rate = Double(value) ?? rate
            case "--sessions": sessions = Int(value) ?? sessions
            case "--rounds": rounds = Int(value) ?? rounds
            default: fail("unknown option \(flag)")
            }
        }
        if walbridge.isEmpty || config.isEmpty || legacy.isEmpty || new.isEmpty || slot.isEmpty {
            fail("--walbridge, --config, --legacy, --new and --slot are required")
        }
    }
}

/// Where the application writes.
enum Live: Int {
    case legacy, new, stopped, probe
}

/// One application write.
struct Write {
    let start: ContinuousClock.Instant
    let end: ContinuousClock.Instant
    let live: Live
    let accepted: Bool
}

/// The application's shared state: where it writes, and what became of each write.
final class Application: Sendable {
    let live = Atomic<Int>(Live.legacy.rawValue)
    /// Writes under way.
    let inFlight = Atomic<Int>(0)
    private let writes = Mutex<[Write]>([])

    func record(_ write: Write) { writes.withLock { $0.append(write) } }
    var all: [Write] { writes.withLock { $0 } }
    var current: Live { Live(rawValue: live.load(ordering: .relaxed)) ?? .legacy }
    func set(_ value: Live) { live.store(value.rawValue, ordering: .relaxed) }
}

/// Runs `walbridge ARGS --config FILE` and waits for it; its exit status and output.
func walbridge(_ options: Options, _ arguments: [String]) -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: options.walbridge)
    process.arguments = arguments + ["--config", options.config]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do { try process.run() } catch { fail("cannot run \(options.walbridge): \(error)") }
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, output)
}

/// One session of the application, paced to `interval` between writes.
func write(_ app: Application, _ options: Options, interval: Duration) async throws {
    let legacy = try await PGConnection.connect(try ConnectionString(options.legacy))
    let new = try await PGConnection.connect(try ConnectionString(options.new))
    var next = ContinuousClock.now
    while !Task.isCancelled {
        app.inFlight.add(1, ordering: .sequentiallyConsistent)
        let live = app.current
        let start = ContinuousClock.now
        var accepted = true
        do {
            let id = String(Int.random(in: 1...1000))
            switch live {
            case .legacy: try await legacy.query("UPDATE products SET price = price + 100 WHERE id = $1", [id])
            case .new: try await new.query("UPDATE products_v2 SET price = price + 1 WHERE id = $1", [id])
            case .probe: try await new.query("INSERT INTO window_probe DEFAULT VALUES")
            case .stopped: accepted = false
            }
        } catch let error as PGError where error.sqlState == "25006" {
            accepted = false
        }
        if live != .stopped { app.record(Write(start: start, end: .now, live: live, accepted: accepted)) }
        app.inFlight.subtract(1, ordering: .sequentiallyConsistent)
        next += interval
        if next < .now { next = .now }
        try? await Task.sleep(until: next, clock: .continuous)
    }
}

/// The window of one command run: from the start of the first write lost after `from` to the end of the first write
/// `to` accepted after it; nil when no write was lost.
func window(_ writes: [Write], after from: ContinuousClock.Instant, lost: Live, to: Live) -> Double? {
    let later = writes.filter { $0.start >= from }
    guard let first = later.filter({ $0.live == lost && !$0.accepted }).map(\.start).min(),
        let end = later.filter({ $0.live == to && $0.accepted && $0.end > first }).map(\.end).min()
    else { return nil }
    return (end - first) / .milliseconds(1)
}

/// Min, median and max of `values`, in ms.
func spread(_ values: [Double]) -> String {
    guard !values.isEmpty else { return "-" }
    let sorted = values.sorted()
    return String(format: "%.0f / %.0f / %.0f", sorted[0], sorted[sorted.count / 2], sorted[sorted.count - 1])
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
let app = Application()
let newAdmin = try await PGConnection.connect(try ConnectionString(options.new))
let legacyAdmin = try await PGConnection.connect(try ConnectionString(options.legacy))
try await newAdmin.simpleQuery(
    "CREATE TABLE IF NOT EXISTS window_probe (id bigserial PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())")
let startSum = Int64(try await legacyAdmin.query("SELECT sum(price)::text FROM products").scalar ?? "") ?? 0

let interval = Duration.milliseconds(Int64(1000.0 * Double(options.sessions) / options.rate))
var writers: [Task<Void, Error>] = []
for _ in 0..<options.sessions { writers.append(Task { try await write(app, options, interval: interval) }) }
// The feature switch: the switch record, read every 5 ms while a command runs.
let following = Atomic<Bool>(false)
let watcher = Task {
    let session = try await PGConnection.connect(try ConnectionString(options.new))
    while !Task.isCancelled {
        if following.load(ordering: .relaxed) {
            let row = try? await session.query(
                "SELECT phase, step FROM walbridge.switch WHERE slot = $1", [options.slot]
            ).rows.first
            let (phase, step) = (row?[0] ?? nil, row?[1] ?? nil)
            if phase == "switched" && app.current == .legacy { app.set(.new) }
            if (phase == "rolled_back" || step == "legacy open" || step == "reverse dropped") && app.current == .new {
                app.set(.legacy)
            }
        }
        try? await Task.sleep(for: .milliseconds(5))
    }
}
try await Task.sleep(for: .seconds(3))

var baseline: [Double] = []
for _ in 0..<options.rounds {
    let stopped = ContinuousClock.now
    app.set(.stopped)
    // The application has stopped once its last write returned.
    while app.inFlight.load(ordering: .sequentiallyConsistent) > 0 { try await Task.sleep(for: .microseconds(200)) }
    let lsn = try await legacyAdmin.query("SELECT pg_current_wal_lsn()::text").scalar ?? "0/0"
    let (status, output) = walbridge(options, ["pause", "--at-lsn", lsn])
    guard status == 0 else { fail("pause --at-lsn: \(output)") }
    while try await newAdmin.query(
        "SELECT state = 'paused' AND pause_at_lsn = $2::pg_lsn FROM walbridge.control WHERE slot = $1",
        [options.slot, lsn]
    ).scalar != "t" {
        try await Task.sleep(for: .milliseconds(10))
    }
    app.set(.probe)
    while !app.all.contains(where: { $0.live == .probe && $0.accepted && $0.start >= stopped }) {
        try await Task.sleep(for: .milliseconds(1))
    }
    let end = app.all.filter { $0.live == .probe && $0.accepted && $0.start >= stopped }.map(\.end).min()!
    baseline.append((end - stopped) / .milliseconds(1))
    app.set(.legacy)
    guard walbridge(options, ["resume"]).0 == 0 else { fail("resume failed") }
    try await Task.sleep(for: .seconds(2))
}

var rows: [(String, [Double], [Double], Int)] = []
following.store(true, ordering: .relaxed)
for fence in ["trigger", "lock"] {
    var cutovers: [Double] = []
    var rollbacks: [Double] = []
    var recorded: [Double] = []
    for _ in 0..<options.rounds {
        let began = ContinuousClock.now
        let (cut, cutOutput) = walbridge(
            options, ["cutover", "--reverse", "--fence", fence, "--verify", "sample:100", "--max-lag", "5"])
        guard cut == 0 else { fail("cutover --fence \(fence): \(cutOutput)") }
        try await Task.sleep(for: .seconds(2))
        if let ms = window(app.all, after: began, lost: .legacy, to: .new) { cutovers.append(ms) }
        if let ms = try await newAdmin.query(
            "SELECT unavailable_ms::text FROM walbridge.switch WHERE slot = $1", [options.slot]
        ).scalar.flatMap({ Double($0) }) {
            recorded.append(ms)
        }
        let back = ContinuousClock.now
        let (rolled, rollOutput) = walbridge(options, ["rollback", "--verify", "skip"])
        guard rolled == 0 else { fail("rollback: \(rollOutput)") }
        try await Task.sleep(for: .seconds(2))
        if let ms = window(app.all, after: back, lost: .new, to: .legacy) { rollbacks.append(ms) }
    }
    let lost = app.all.filter { !$0.accepted }.count
    rows.append((fence, cutovers, rollbacks, lost))
    print("window-bench: fence \(fence): switch record says \(spread(recorded)) ms")
}
following.store(false, ordering: .relaxed)
for writer in writers { writer.cancel() }
for writer in writers { _ = await writer.result }
watcher.cancel()

let writes = app.all
let accepted = writes.filter { $0.accepted && ($0.live == .legacy || $0.live == .new) }.count
print(String(format: "window-bench: %.0f txn/s asked over %d sessions; %d writes, %d accepted, %d refused by a fence",
             options.rate, options.sessions, writes.count, accepted, writes.filter { !$0.accepted }.count))
print(
    "| fence | cut-over window ms (min / median / max) | rollback window ms (min / median / max) "
        + "| manual pause --at-lsn baseline ms | cut-over / baseline (median) |")
print("|---|---|---|---|---|")
let baselineMedian = baseline.sorted()[baseline.count / 2]
for (fence, cutovers, rollbacks, _) in rows {
    let median = cutovers.isEmpty ? Double.nan : cutovers.sorted()[cutovers.count / 2]
    print(
        "| \(fence) | \(spread(cutovers)) | \(spread(rollbacks)) | \(spread(baseline)) "
            + "| \(String(format: "%.2f", median / baselineMedian)) |")
}
// Every accepted dollar is in the legacy table once forward replication caught up after the last rollback.
let goal = try await legacyAdmin.query("SELECT pg_current_wal_lsn()::text").scalar ?? "0/0"
_ = try await newAdmin.query("SELECT walbridge.wait_for_lsn($1::pg_lsn, '60 seconds', $2)", [goal, options.slot])
let endSum = Int64(try await legacyAdmin.query("SELECT sum(price)::text FROM products").scalar ?? "") ?? 0
let (verified, verifyOutput) = walbridge(options, ["verify"])
let match = endSum - startSum == Int64(accepted) * 100 && verified == 0
print(
    "window-bench: \(match ? "MATCH" : "MISMATCH"): legacy prices grew by \(endSum - startSum) cents for \(accepted) "
        + "accepted writes; verify \(verified == 0 ? "passed" : "failed: \(verifyOutput)")")
exit(match ? 0 : 1)
