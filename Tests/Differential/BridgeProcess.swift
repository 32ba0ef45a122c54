import Foundation
import Glibc

/// The `walbridge run` subprocess of one case: started, signalled, restarted, and watched for an exit nobody asked for.
final class BridgeProcess: @unchecked Sendable {
    let binary: String
    let config: String
    let log: String
    let chunkRows: Int
    /// `--apply-slice-rows`, or nil for the default.
    let sliceRows: Int?
    /// `--max-rows-per-second`, or nil for no limit.
    let backfillRate: Int?
    private let lock = NSLock()
    private var process: Process?
    private var signalled = false
    private var unexpectedExit: Int32?
    /// How many times the bridge was started.
    private(set) var starts = 0

    init(binary: String, config: String, log: String, chunkRows: Int, sliceRows: Int?, backfillRate: Int?) {
        self.binary = binary
        self.config = config
        self.log = log
        self.chunkRows = chunkRows
        self.sliceRows = sliceRows
        self.backfillRate = backfillRate
        _ = FileManager.default.createFile(atPath: log, contents: nil)
    }

    /// Starts `walbridge run` with its output appended to the log (`limited`: with the case's backfill rate, if any).
    func start(limited: Bool = true) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        handle.write(Data("--- differential: walbridge run started at \(Date())\n".utf8))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", "--config", config, "--quiet", "--backfill-chunk-rows", String(chunkRows)]
            + (sliceRows.map { ["--apply-slice-rows", String($0)] } ?? [])
            + (limited ? backfillRate.map { ["--max-rows-per-second", String($0)] } ?? [] : [])
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? handle.close()
        Children.add(process.processIdentifier)
        lock.withLock {
            self.process = process
            signalled = false
            starts += 1
        }
    }

    /// Whether the process is alive.
    var isRunning: Bool {
        lock.withLock { process?.isRunning ?? false }
    }

    /// The exit status of a bridge that ended without a signal from us, if one did.
    var exitedOnItsOwn: Int32? {
        lock.withLock {
            if let unexpectedExit { return unexpectedExit }
            if let process, !process.isRunning, !signalled {
                unexpectedExit = process.terminationStatus
            }
            return unexpectedExit
        }
    }

    /// Sends `signal` and waits up to `timeout` seconds for the exit (then SIGKILL).
    func stop(signal: Int32 = SIGKILL, timeout: Double = 20) async {
        if exitedOnItsOwn != nil { return }
        let pid: Int32? = lock.withLock {
            guard let process, process.isRunning else { return nil }
            signalled = true
            return process.processIdentifier
        }
        guard let pid else { return }
        kill(pid, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if isRunning {
            kill(pid, SIGKILL)
            while isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        }
        Children.remove(pid)
    }

    /// The last `count` lines of the log.
    func tail(_ count: Int = 40) -> String {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(count).joined(separator: "\n")
    }

    /// Polls `walbridge status --json` until the bridge reports backfilling or streaming (false if it died or time ran
    /// out).
    func waitStreaming(timeout: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if exitedOnItsOwn != nil { return false }
            let result = await Command.run(binary, ["status", "--config", config, "--json"], timeout: 20)
            if result.status == 0, let data = result.output.data(using: .utf8),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let state = object["state"] as? String, state == "streaming" || state == "backfilling"
            {
                return true
            }
            try? await Task.sleep(for: .milliseconds(150))
        }
        return false
    }
}

/// The bridge processes alive now, so that SIGINT or SIGTERM to the test kills them before it exits. The handler only
/// reads a fixed table of pids and calls kill and _exit; a handler (unlike SIG_IGN) is not inherited by the children.
enum Children {
    private static let capacity = 64
    private static let lock = NSLock()
    nonisolated(unsafe) private static let slots: UnsafeMutablePointer<Int32> = {
        let slots = UnsafeMutablePointer<Int32>.allocate(capacity: 64)
        slots.initialize(repeating: 0, count: 64)
        return slots
    }()

    static func add(_ pid: Int32) {
        lock.withLock {
            if let free = (0..<capacity).first(where: { slots[$0] == 0 }) { slots[free] = pid }
        }
    }

    static func remove(_ pid: Int32) {
        lock.withLock {
            for i in 0..<capacity where slots[i] == pid { slots[i] = 0 }
        }
    }

    /// On SIGINT or SIGTERM: SIGKILL every bridge, then exit 130.
    static func killOnSignals() {
        _ = slots
        let handler: @convention(c) (Int32) -> Void = { _ in
            for i in 0..<64 where Children.slots[i] != 0 { kill(Children.slots[i], SIGKILL) }
            _exit(130)
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
    }
}

/// Runs a short command with a deadline, collecting its output through temporary files (no pipe can fill up).
enum Command {
    /// Exit status (-1 when it timed out or could not start) and stdout, stderr.
    struct Result: Sendable {
        var status: Int32
        var output: String
        var errors: String
    }

    static func run(_ binary: String, _ arguments: [String], timeout: Double) async -> Result {
        let directory = FileManager.default.temporaryDirectory
        let out = directory.appendingPathComponent("difftest-cmd-\(UUID().uuidString).out")
        let err = directory.appendingPathComponent("difftest-cmd-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        do {
            let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
            process.standardOutput = outHandle
            process.standardError = errHandle
            try process.run()
            try? outHandle.close()
            try? errHandle.close()
        } catch {
            return Result(status: -1, output: "", errors: "cannot run \(binary): \(error)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        var timedOut = false
        if process.isRunning {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        }
        let output = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        let errors = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        return Result(
            status: timedOut ? -1 : process.terminationStatus, output: output,
            errors: timedOut ? errors + "\n(timed out after \(timeout) s)" : errors)
    }
}
